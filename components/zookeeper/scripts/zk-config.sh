# shellcheck shell=sh
# Writes a server's zoo.cfg, myid and systemd unit, and starts it. PHASE "start" acts only on a
# server that is not running (a new one: it starts first, so that it follows the current leader
# before the others restart with a list that counts it). PHASE "roll" restarts a running server
# whose configuration changed, waiting for the ensemble to be healthy before and after; the leader
# defers its restart to the finish step so that it goes last. With DYNAMIC, the server list is in
# a dynamic file that ZooKeeper rewrites on every reconfiguration: a running server keeps the one
# ZooKeeper wrote last, a server that starts gets MEMBERS. With auth, the super user's digest
# (on stdin) is a line of zoo.cfg, which ZooKeeper turns into the system property its digest
# provider reads when it first loads, after the file: never on the JVM's command line (which `ps`
# shows everyone). So zoo.cfg is the zookeeper user's alone (0600), and the unit's umask keeps the
# copy ZooKeeper writes on a reconfiguration so.
: "${NODE:?}" "${HOST:?}" "${MYID:?}" "${DATA_DIR:?}" "${ZOO_CFG:?}" "${MEMBERS:?}" "${DYNAMIC:?}" "${CLASSPATH_ZK:?}" "${HEAP_MB:?}" "${CONFIG_HASH:?}" "${ATTEMPTS:?}" "${PHASE:?}" "${JVM_FLAGS=}"

IFS= read -r super_digest || true
case "$super_digest" in
  '' | super:???????????????????????????=) ;;
  *) fail "the super digest on stdin is not super:BASE64 (28 characters)" ;;
esac
case "${super_digest#super:}" in *[!A-Za-z0-9+/=]*) fail "the super digest on stdin is not super:BASE64" ;; esac
auth_line=""
[ -z "$super_digest" ] || auth_line="DigestAuthenticationProvider.superDigest=$super_digest"
undrain_clients
if [ "$PHASE" = start ] && systemctl is-active -q zookeeper-ensemble 2>/dev/null; then
  say "server $MYID is running; a change reaches it in the rolling restart"
  exit 0
fi
conf=$ZK_CONF
# Servers with and without quorum TLS cannot talk to each other, so a rolling restart cannot turn
# it on or off: refused before anything changes.
quorum_tls() { if grep -q '^sslQuorum=true$'; then echo on; else echo off; fi; }
if systemctl is-active -q zookeeper-ensemble && [ -r "$conf/zoo.cfg" ]; then
  now=$(quorum_tls <"$conf/zoo.cfg")
  next=$(printf '%s\n' "$ZOO_CFG" | quorum_tls)
  [ "$now" = "$next" ] || fail "server $MYID runs with TLS $now; tls.enabled cannot change while the ensemble runs (servers with and without TLS do not form a quorum): keep tls.enabled as it is, or replace the ensemble"
fi
mkdir -p "$conf"
# zoo.cfg is made unreadable to others before it holds the digest.
umask 077
if [ "$DYNAMIC" = true ]; then
  dynamic_file=$(sed -n 's/^dynamicConfigFile=//p' "$conf/zoo.cfg" 2>/dev/null || true)
  if ! systemctl is-active -q zookeeper-ensemble || [ ! -r "${dynamic_file:-/nonexistent}" ]; then
    dynamic_file="$conf/zoo.cfg.dynamic"
    printf '%s\n' "$MEMBERS" >"$dynamic_file"
  fi
  printf '%s\n%s%sdynamicConfigFile=%s\n' "$ZOO_CFG" "$auth_line" "${auth_line:+$NL}" "$dynamic_file" >"$conf/zoo.cfg.new"
  # ZooKeeper writes the next dynamic file, and points zoo.cfg at it, in this directory.
  chown zookeeper: "$conf" "$dynamic_file"
else
  printf '%s\n%s%s' "$ZOO_CFG" "$auth_line" "${auth_line:+$NL}" >"$conf/zoo.cfg.new"
fi
chown zookeeper: "$conf/zoo.cfg.new"
chmod 0600 "$conf/zoo.cfg.new"
mv -f "$conf/zoo.cfg.new" "$conf/zoo.cfg"
umask 022
printf '%s\n' "$MYID" >"$DATA_DIR/myid"
chown zookeeper: "$DATA_DIR/myid"
# jvm.env is read by systemd, a line per variable: a value may not start another line.
case "$HEAP_MB" in '' | *[!0-9]*) fail "the heap size \"$HEAP_MB\" is not a whole number of MiB" ;; esac
case "$JVM_FLAGS" in *"$NL"* | *"$(printf '\r')"*) fail "the JVM flags hold a line break" ;; esac
umask 077
{
  printf 'JVM_HEAP=-Xms%sm -Xmx%sm\n' "$HEAP_MB" "$HEAP_MB"
  printf 'JVM_FLAGS=%s\n' "$JVM_FLAGS"
} >"$conf/jvm.env"
umask 022
cat >/etc/systemd/system/zookeeper-ensemble.service <<UNIT
[Unit]
Description=ZooKeeper server $MYID of the swarm-ha ensemble
After=network-online.target
Wants=network-online.target

[Service]
User=zookeeper
EnvironmentFile=$conf/jvm.env
# What ZooKeeper writes (zoo.cfg on a reconfiguration, snapshots, logs) is not for other users.
UMask=0077
ExecStart=/usr/bin/java \$JVM_HEAP \$JVM_FLAGS -Dzookeeper.root.logger=INFO,CONSOLE -cp $CLASSPATH_ZK org.apache.zookeeper.server.quorum.QuorumPeerMain $conf/zoo.cfg
Restart=always
RestartSec=2
LimitNOFILE=65536

[Install]
WantedBy=multi-user.target
UNIT
systemctl daemon-reload
systemctl enable zookeeper-ensemble >/dev/null 2>&1

if ! systemctl is-active -q zookeeper-ensemble; then
  systemctl start zookeeper-ensemble
  record_running
  say "started server $MYID"
elif [ "$(running_hash)" != "$CONFIG_HASH" ]; then
  if [ "${DEFER_LEADER:-false}" = true ] && [ "$(mode_of 127.0.0.1)" = leader ]; then
    say "server $MYID leads: its restart waits for the followers"
  else
    restart_when_healthy "restarted server $MYID"
  fi
else
  say "server $MYID already runs this configuration"
fi

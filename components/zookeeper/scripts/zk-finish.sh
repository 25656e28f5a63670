# shellcheck shell=sh
# After every follower has its new configuration: restarts a server still on the old one (the
# leader deferred it), then waits for the ensemble to be healthy again. With DYNAMIC and at least 3
# servers the leader hands over first, so that clients see no election: it reconfigures itself out
# (ZooKeeper passes the lead to a synced follower), restarts following the new leader, and is
# reconfigured back in. The super password comes on stdin (never printed); while the server is out,
# its line is kept in HANDOVER, so a run stopped half-way puts it back.
: "${NODE:?}" "${HOST:?}" "${MYID:?}" "${CONFIG_HASH:?}" "${ATTEMPTS:?}" "${DYNAMIC:?}"

IFS= read -r password || true
HANDOVER=$ZK_CONF/handover
undrain_clients

running_list=$(cat "$ZK_CONF/running.servers" 2>/dev/null || printf '%s' "$SERVERS")
kept=$(kept_servers "$running_list")
everyone=$(all_servers "$running_list")
others=$(printf '%s\n' "$kept" | awk -v me="$MYID" 'NF == 2 && $1 != me')

# other_leads: succeeds when one of the others leads, with the rest of them in sync; prints it.
other_leads() {
  _report=$(ensemble_report "$others")
  _problem=$(ensemble_problem "$_report")
  [ -z "$_problem" ] || { printf '%s' "$_problem"; return 1; }
  printf '%s\n' "$_report" | awk '$3 == "leader" { print $1 " " $2 }'
}
# follows_here: succeeds when this server follows (it is back without a vote, or with one).
follows_here() {
  _mode=$(mode_of 127.0.0.1)
  [ "$_mode" = follower ] || { printf 'server %s: %s' "$MYID" "${_mode:-down}"; return 1; }
}
# in_ensemble: succeeds when the ensemble's configuration counts this server.
in_ensemble() {
  _config=$(zk_cli 127.0.0.1 config)
  printf '%s\n' "$_config" | grep -q "^server\.$MYID=" || { printf 'configuration: %s' "$(printf '%s' "$_config" | tr '\n' ' ')"; return 1; }
}

# hand_over: takes this server, the leader, out of the ensemble (ZooKeeper passes the lead to a
# synced follower), then restarts it outside. A leader that refuses (it still runs without dynamic
# reconfiguration, the switch being this very roll) restarts in place.
hand_over() {
  _line=$(zk_cli 127.0.0.1 config | grep "^server\.$MYID=") ||
    fail "could not read server $MYID's line from the ensemble's configuration on $HOST:$CLIENT_PORT"
  printf '%s\n' "$_line" >"$HANDOVER"
  drain_clients
  _answer=$(zk_cli 127.0.0.1 "reconfig -remove $MYID")
  if ! printf '%s\n' "$_answer" | grep -q '^server\.' && printf '%s\n' "$_answer" | grep -q .; then
    rm -f "$HANDOVER"
    undrain_clients
    say "server $MYID could not hand over (ZooKeeper answered: $(printf '%s' "$_answer" | tr '\n' ' '))"
    restart_when_healthy "restarted server $MYID last"
    return 0
  fi
  restart_outside
}

# restart_outside: restarts this server, out of the ensemble, following the leader the others have:
# its dynamic file is the ensemble's configuration and its own line from HANDOVER (ZooKeeper's own
# file lacks it once it left), so it follows without a vote until rejoin adds it back.
restart_outside() {
  _leader=$(retry "$ATTEMPTS" 1 "another server to lead once server $MYID left the ensemble" other_leads)
  say "server $MYID handed the lead to server ${_leader%% *}"
  _members=$(zk_cli "${_leader#* }" config | grep '^server\.' | grep -v "^server\.$MYID=")
  drain_clients
  systemctl stop zookeeper-ensemble
  printf '%s\n%s\n' "$_members" "$(cat "$HANDOVER")" >"$ZK_CONF/zoo.cfg.dynamic"
  sed -i "s|^dynamicConfigFile=.*|dynamicConfigFile=$ZK_CONF/zoo.cfg.dynamic|" "$ZK_CONF/zoo.cfg"
  chown zookeeper: "$ZK_CONF/zoo.cfg" "$ZK_CONF/zoo.cfg.dynamic"
  systemctl start zookeeper-ensemble
  undrain_clients
  record_running
  say "restarted server $MYID last, outside the ensemble"
}

# rejoin: adds this server back with the line it had (an added server's line names its client
# port; ZooKeeper refuses it without).
rejoin() {
  retry "$ATTEMPTS" 2 "server $MYID to follow the leader" follows_here >/dev/null
  _line=$(cat "$HANDOVER")
  case $_line in *\;*) ;; *) _line="$_line;$CLIENT_PORT" ;; esac
  _answer=$(zk_cli 127.0.0.1 "reconfig -add $_line")
  retry 60 0.5 "server $MYID to be back in the ensemble (reconfig answered: $(printf '%s' "$_answer" | tr '\n' ' '))" in_ensemble >/dev/null
  rm -f "$HANDOVER"
  say "server $MYID is back in the ensemble"
}

if [ "$(running_hash)" != "$CONFIG_HASH" ]; then
  if [ -r "$HANDOVER" ]; then
    # A run stopped after this server left the ensemble, before its restart.
    [ -n "$password" ] || fail "no super password on stdin: server $MYID is out of the ensemble and only the super user can add it back"
    restart_outside
  elif [ "$DYNAMIC" = true ] && [ "$(printf '%s\n' "$others" | grep -c .)" -ge 2 ] &&
    [ "$(mode_of 127.0.0.1)" = leader ]; then
    [ -n "$password" ] || fail "no super password on stdin: the leader's handover needs auth"
    wait_healthy "$ATTEMPTS" "$kept" "$everyone"
    hand_over
  else
    restart_when_healthy "restarted server $MYID last"
  fi
fi
if [ -r "$HANDOVER" ]; then
  [ -n "$password" ] || fail "no super password on stdin: server $MYID is out of the ensemble and only the super user can add it back"
  rejoin
  wait_healthy "$ATTEMPTS" "$kept" "$everyone"
fi
say "server $MYID: $(mode_of 127.0.0.1)"

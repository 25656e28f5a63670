# shellcheck shell=sh
# Ensemble health, shared by the ZooKeeper steps: asks every server `srvr` (and the leader `mntr`)
# on its client port. SERVERS holds one "id address" line per server of the configuration being
# rolled out; the ensemble a server runs now is recorded in running.servers when it (re)starts.
# With TLS_CA (the CA's certificate on this host), CLIENT_PORT is the secure port, spoken over TLS.
: "${SERVERS:?}" "${CLIENT_PORT:?}" "${TLS_CA=}"

# four_letter ADDRESS WORD: the server's answer, or nothing.
four_letter() {
  if [ -n "$TLS_CA" ]; then
    printf %s "$2" | timeout 3 openssl s_client -quiet -verify_return_error -CAfile "$TLS_CA" \
      -connect "$1:$CLIENT_PORT" 2>/dev/null || true
    return 0
  fi
  # shellcheck disable=SC2016 # the inner script expands its own arguments
  timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2" && printf %s "$3" >&3 && cat <&3' _ "$1" "$CLIENT_PORT" "$2" 2>/dev/null || true
}
mode_of() { four_letter "$1" srvr | sed -n 's/^Mode: //p'; }

# ensemble_report LIST: one line per server of LIST, "id address mode" ("down": no answer).
ensemble_report() {
  printf '%s\n' "$1" | while read -r sid addr; do
    [ -n "$sid" ] || continue
    m=$(mode_of "$addr")
    printf '%s %s %s\n' "$sid" "$addr" "${m:-down}"
  done
}

# ensemble_problem REPORT [OTHERS]: empty when every server of REPORT serves and there is one
# leader, among them or among the answering servers of OTHERS (while a list changes, the leader can
# be a server being added or removed), with the servers of REPORT in sync; else what is wrong.
ensemble_problem() {
  _n=$(printf '%s\n' "$1" | grep -c .)
  _bad=$(printf '%s\n' "$1" | awk '$3 != "leader" && $3 != "follower" && $3 != "standalone" { printf "%s(%s) ", $2, $3 }')
  [ -z "$_bad" ] || { printf 'not serving: %s' "$_bad"; return 0; }
  _leaders=$(printf '%s\n%s\n' "$1" "${2:-}" | awk '$3 == "leader" && !seen[$2]++ { print $2 }')
  if [ "$_n" -eq 1 ]; then return 0; fi
  [ "$(printf '%s\n' "$_leaders" | grep -c .)" -eq 1 ] || { printf 'leaders: %s' "$(echo "$_leaders" | tr '\n' ' ')"; return 0; }
  _synced=$(four_letter "$_leaders" mntr | awk '$1 == "zk_synced_followers" { print $2 }')
  [ "${_synced:-0}" -ge $((_n - 1)) ] || printf 'leader %s has %s synced followers, fewer than %s' "$_leaders" "${_synced:-?}" $((_n - 1))
}

# wait_healthy ATTEMPTS LIST [OTHERS]: waits (bounded, 0.5 s apart) until the servers of LIST serve,
# with one leader (among LIST or OTHERS) that has them in sync; fails with what it saw.
wait_healthy() {
  _i=0
  while :; do
    _report=$(ensemble_report "$2")
    _others=""
    [ -z "${3:-}" ] || _others=$(ensemble_report "$3")
    _problem=$(ensemble_problem "$_report" "$_others")
    [ -z "$_problem" ] && return 0
    _i=$((_i + 1))
    [ "$_i" -lt "$1" ] || fail "ensemble not healthy after $1 checks, 0.5 s apart: $_problem; last: $(echo "$_report" | tr '\n' ';')"
    sleep 0.5
  done
}

# kept_servers RUNNING: the servers both in RUNNING (what a server runs now) and in SERVERS (what is
# being rolled out); while the list changes, they are the ones whose health matters.
kept_servers() {
  printf '%s\n' "$SERVERS" | while read -r sid addr; do
    [ -n "$sid" ] || continue
    if printf '%s\n' "$1" | grep -qxF "$sid $addr"; then printf '%s %s\n' "$sid" "$addr"; fi
  done
}

# added_servers RUNNING: the servers of SERVERS that RUNNING lacks (being added).
added_servers() {
  printf '%s\n' "$SERVERS" | while read -r sid addr; do
    [ -n "$sid" ] || continue
    printf '%s\n' "$1" | grep -qxF "$sid $addr" || printf '%s %s\n' "$sid" "$addr"
  done
}

# added_follow ADDED: succeeds when every server of ADDED follows (or observes) a leader; else
# prints the others.
added_follow() {
  _bad=$(ensemble_report "$1" | awk '$3 != "follower" && $3 != "observer" { printf "%s(%s) ", $2, $3 }')
  [ -z "$_bad" ] || { printf '%s' "$_bad"; return 1; }
}

# all_servers RUNNING: the servers of RUNNING and of SERVERS, each once.
all_servers() {
  printf '%s\n%s\n' "$1" "$SERVERS" | awk 'NF == 2 && !seen[$0]++'
}

# refuse_removed_leader EVERYONE: fails, before anything restarts, when the ensemble's leader is a
# server that the new list drops: servers restarted with that list could not follow it. With
# dynamic reconfiguration a restart keeps the membership, which only reconfig changes.
refuse_removed_leader() {
  [ "${DYNAMIC:-false}" != true ] || return 0
  _leader=$(ensemble_report "$1" | awk '$3 == "leader" { print $1 " " $2 }')
  if [ -n "$_leader" ] && ! printf '%s\n' "$SERVERS" | grep -qxF "$_leader"; then
    fail "server ${_leader%% *} (${_leader#* }) leads the ensemble and is being removed; servers restarted with the new list could not follow it, so nothing was restarted. Keep it in the list, or turn on dynamicReconfig, which can remove the leader"
  fi
}

# What this server runs: written when it (re)starts, read before the next restart.
ZK_CONF=/etc/zookeeper-ensemble
running_hash() { cat "$ZK_CONF/running.hash" 2>/dev/null || true; }
record_running() {
  printf '%s\n' "$CONFIG_HASH" >"$ZK_CONF/running.hash"
  printf '%s\n' "$SERVERS" >"$ZK_CONF/running.servers"
}

# With dynamic reconfiguration, a server about to stop first sends its clients away: a rule of a
# table of its own resets every TCP packet to the client port that does not come over loopback, so
# clients move to another server at once instead of waiting out the server's shutdown (a leader
# handing over would otherwise keep taking clients until it stops). The health checks here go over
# loopback. Every step that can restart a server lifts it on exit, and the next step lifts any left.
DRAIN_TABLE=swarm_ha_zk_drain
drain_clients() {
  [ "${DYNAMIC:-false}" = true ] || return 0
  command -v nft >/dev/null 2>&1 || { say "nft is missing: clients are not sent away first"; return 0; }
  trap undrain_clients EXIT
  trap 'undrain_clients; exit 1' HUP INT TERM
  ! nft list table inet "$DRAIN_TABLE" >/dev/null 2>&1 || return 0
  printf 'table inet %s {\n chain input {\n  type filter hook input priority -10; policy accept;\n  iifname "lo" accept\n  tcp dport %s reject with tcp reset\n }\n}\n' \
    "$DRAIN_TABLE" "$CLIENT_PORT" | nft -f -
}
undrain_clients() {
  if command -v nft >/dev/null 2>&1 && nft list table inet "$DRAIN_TABLE" >/dev/null 2>&1; then
    nft delete table inet "$DRAIN_TABLE"
  fi
}

# restart_when_healthy WHAT: restarts this server with the configuration being rolled out, only
# when the ensemble it runs in now is healthy, then waits for it to be healthy again. The servers
# that run both before and after are the ones whose health counts; a removed leader is refused.
restart_when_healthy() {
  _running_list=$(cat "$ZK_CONF/running.servers" 2>/dev/null || printf '%s' "$SERVERS")
  _kept=$(kept_servers "$_running_list")
  _everyone=$(all_servers "$_running_list")
  refuse_removed_leader "$_everyone"
  wait_healthy "$ATTEMPTS" "$_kept" "$_everyone"
  # Added servers must follow the current leader first: this server and they could otherwise be a
  # majority of the new list on their own and elect a second leader.
  _added=$(added_servers "$_running_list")
  if [ -n "$_added" ]; then
    retry "$ATTEMPTS" 2 "the added servers to follow the leader" added_follow "$_added" >/dev/null
    say "added servers $(printf '%s\n' "$_added" | awk '{ print $1 }' | paste -sd' ' -) follow the leader"
  fi
  drain_clients
  systemctl restart zookeeper-ensemble
  undrain_clients
  record_running
  say "$1"
  wait_healthy "$ATTEMPTS" "$_kept" "$_everyone"
}

# zk_run ADDRESS COMMAND...: runs ZooKeeper's CLI against the server at ADDRESS, authenticated as
# super with $password (read from stdin by the step), the commands on its stdin (never on a
# command line), and prints what it answers without prompts and without any line naming a digest
# (its echo of addauth, setAcl or create). With TLS_CA, over TLS to the secure port, checking the
# server's certificate (made for ADDRESS) against the CA. Needs CLASSPATH_ZK.
zk_run() {
  _server=$1
  shift
  _commands=$(for _c in "$@"; do printf '%s\n' "$_c"; done)
  set -- -cp "$CLASSPATH_ZK"
  if [ -n "${TLS_CA:-}" ]; then
    # The client's Netty needs the resolver too, which the OS package's jar does not name.
    _cp=$CLASSPATH_ZK
    [ ! -r /usr/share/java/netty-resolver.jar ] || _cp="$_cp:/usr/share/java/netty-resolver.jar"
    set -- -Dzookeeper.client.secure=true \
      -Dzookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty \
      "-Dzookeeper.ssl.trustStore.location=$TLS_CA" -Dzookeeper.ssl.trustStore.type=PEM -cp "$_cp"
  fi
  {
    # shellcheck disable=SC2154 # the steps that call it read password from stdin
    printf 'addauth digest super:%s\n' "$password"
    printf '%s\nquit\n' "$_commands"
  } | timeout 90 java "$@" org.apache.zookeeper.ZooKeeperMain -server "$_server:$CLIENT_PORT" 2>&1 |
    sed 's/\[zk: [^]]*\] *//g' | grep -v -i -e 'addauth' -e 'digest' || true
}

# zk_cli ADDRESS COMMAND...: zk_run, printing only what its commands answer: configuration lines
# and errors (never its input).
zk_cli() {
  zk_run "$@" |
    grep -E '^(server\.[0-9]+=|version=)|Exception|KeeperErrorCode|[Ii]nsufficient|[Nn]o quorum|refused' || true
}

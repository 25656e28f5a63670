# shellcheck shell=sh
# After every follower has its new configuration: restarts a server still on the old one (the
# leader deferred it), then waits for the ensemble to be healthy again. With dynamic reconfiguration
# (DYNAMIC, the super password on stdin) and at least three servers, the leader first hands over:
# made an observer by `reconfig`, it stops voting and ZooKeeper moves leadership to a synced
# follower without an election; it restarts as an observer and is made a participant again, so
# clients never wait for an election.
: "${NODE:?}" "${HOST:?}" "${MYID:?}" "${CONFIG_HASH:?}" "${ATTEMPTS:?}" "${DYNAMIC:?}"

SUPER_PASSWORD=""
[ "$DYNAMIC" != true ] || { IFS= read -r SUPER_PASSWORD || true; }

# observing / following: succeed when this server serves in that role; else print its mode.
observing() { _m=$(mode_of 127.0.0.1); [ "$_m" = observer ] || { printf '%s' "${_m:-down}"; return 1; }; }
following() { _m=$(mode_of 127.0.0.1); [ "$_m" = follower ] || { printf '%s' "${_m:-down}"; return 1; }; }

# reconfig_to LINE: sends `reconfig -add LINE` (a member's new line) and fails on an error answer.
reconfig_to() {
  _answer=$(zk_cli "reconfig -add $1")
  if printf '%s\n' "$_answer" | grep -qE 'Exception|KeeperErrorCode|[Ii]nsufficient|[Nn]o quorum|refused|not valid'; then
    fail "reconfig -add $1 was refused: $(printf '%s' "$_answer" | tr '\n' ' ')"
  fi
}

hand_over_and_restart() {
  wait_healthy "$ATTEMPTS" "$SERVERS"
  line=$(members_of "$(zk_cli config)" | grep "^server\.$MYID=" || true)
  case "$line" in
    *:participant | *:participant\;*) ;;
    *) fail "server $MYID's line in the ensemble's configuration is '$line'; expected a participant" ;;
  esac
  # `reconfig -add` wants the client port after the server's ports.
  case "$line" in *\;*) ;; *) line="$line;$CLIENT_PORT" ;; esac
  others=$(printf '%s\n' "$SERVERS" | awk -v id="$MYID" '$1 != id')
  reconfig_to "$(printf '%s' "$line" | sed 's/:participant\(;\|$\)/:observer\1/')"
  retry $((ATTEMPTS * 2)) 1 "server $MYID to hand leadership over and observe" observing >/dev/null
  wait_healthy "$ATTEMPTS" "$others"
  leader=$(ensemble_report "$others" | awk '$3 == "leader" { print $1 }')
  systemctl restart zookeeper-ensemble
  record_running
  retry $((ATTEMPTS * 2)) 1 "server $MYID to serve again as an observer" observing >/dev/null
  reconfig_to "$line"
  retry $((ATTEMPTS * 2)) 1 "server $MYID to follow again" following >/dev/null
  wait_healthy "$ATTEMPTS" "$SERVERS"
  say "server $MYID handed leadership to server $leader, restarted as an observer and follows again"
}

if [ "$(running_hash)" != "$CONFIG_HASH" ]; then
  # A leader started before dynamic reconfiguration was turned on cannot be reconfigured: it restarts.
  if [ -n "$SUPER_PASSWORD" ] && runs_dynamic && [ "$(mode_of 127.0.0.1)" = leader ] &&
    [ "$(printf '%s\n' "$SERVERS" | grep -c .)" -ge 3 ]; then
    hand_over_and_restart
  else
    restart_when_healthy "restarted server $MYID last"
  fi
fi
say "server $MYID: $(mode_of 127.0.0.1)"

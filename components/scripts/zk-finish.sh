# shellcheck shell=sh
# After every follower has its new configuration: restarts a server still on the old one (the
# leader deferred it), then waits for the ensemble to be healthy again.
: "${NODE:?}" "${HOST:?}" "${MYID:?}" "${CONFIG_HASH:?}" "${ATTEMPTS:?}"

conf=/etc/zookeeper-ensemble
if [ "$(cat "$conf/running.hash" 2>/dev/null || true)" != "$CONFIG_HASH" ]; then
  running_list=$(cat "$conf/running.servers" 2>/dev/null || printf '%s' "$SERVERS")
  kept=$(kept_servers "$running_list")
  everyone=$(all_servers "$running_list")
  refuse_removed_leader "$everyone"
  wait_healthy "$ATTEMPTS" "$kept" "$everyone"
  systemctl restart zookeeper-ensemble
  printf '%s\n' "$CONFIG_HASH" >"$conf/running.hash"
  printf '%s\n' "$SERVERS" >"$conf/running.servers"
  say "restarted server $MYID last"
  wait_healthy "$ATTEMPTS" "$kept" "$everyone"
fi
say "server $MYID: $(mode_of 127.0.0.1)"

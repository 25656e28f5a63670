# shellcheck shell=sh
# After every follower has its new configuration: restarts a server still on the old one (the
# leader deferred it), then waits for the ensemble to be healthy again.
: "${NODE:?}" "${HOST:?}" "${MYID:?}" "${CONFIG_HASH:?}" "${ATTEMPTS:?}"

conf=/etc/zookeeper-ensemble
if [ "$(cat "$conf/running.hash" 2>/dev/null || true)" != "$CONFIG_HASH" ]; then
  wait_healthy "$ATTEMPTS"
  systemctl restart zookeeper-ensemble
  printf '%s\n' "$CONFIG_HASH" >"$conf/running.hash"
  say "restarted server $MYID last"
  wait_healthy "$ATTEMPTS"
fi
say "server $MYID: $(mode_of 127.0.0.1)"

# shellcheck shell=sh
# After every follower has its new configuration: restarts a server still on the old one (the
# leader deferred it), then waits for the ensemble to be healthy again.
: "${NODE:?}" "${HOST:?}" "${MYID:?}" "${CONFIG_HASH:?}" "${ATTEMPTS:?}"

if [ "$(running_hash)" != "$CONFIG_HASH" ]; then
  restart_when_healthy "restarted server $MYID last"
fi
say "server $MYID: $(mode_of 127.0.0.1)"

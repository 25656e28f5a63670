# shellcheck shell=sh
# Waits (bounded) until every server answers srvr as leader or follower, there is exactly one
# leader, and it has N - 1 synced followers. Prints "id address mode" per server.
: "${NODE:?}" "${HOST:?}" "${ATTEMPTS:?}"

wait_healthy "$ATTEMPTS" "$SERVERS"
ensemble_report "$SERVERS"

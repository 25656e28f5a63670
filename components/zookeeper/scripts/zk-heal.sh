# shellcheck shell=sh
# Runs after the probe found a server down: starts this server when its unit is enabled and not
# active (stopped by hand; systemd restarts it after a crash), then waits for the ensemble.
: "${NODE:?}" "${HOST:?}" "${MYID:?}" "${ATTEMPTS:?}"
undrain_clients

if systemctl is-enabled -q zookeeper-ensemble 2>/dev/null && ! systemctl is-active -q zookeeper-ensemble; then
  systemctl start zookeeper-ensemble
  say "server $MYID was stopped: started it"
  wait_healthy "$ATTEMPTS" "$SERVERS"
else
  say "server $MYID: $(mode_of 127.0.0.1)"
fi

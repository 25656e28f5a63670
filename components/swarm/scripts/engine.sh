# shellcheck shell=sh
# Gives a running engine its metrics address: writes it into daemon.json and, if the engine does
# not listen there yet, restarts it and waits (bounded) until the node is back in the swarm. The
# cluster runs this on one node at a time, so a restart never takes more than one manager away.
# With autolock, a manager's unlock key comes on stdin: a restarted manager is locked until given it.
: "${NODE:?}" "${HOST:?}" "${ROLE:?}" "${METRICS_ADDR:?}" "${ATTEMPTS:?}" "${INTERVAL:?}" "${AUTOLOCK:=false}"

unlock_key=""
if [ "$ROLE" = manager ] && [ "$AUTOLOCK" = true ]; then
  IFS= read -r unlock_key || true
fi

daemon_metrics "$METRICS_ADDR" >/dev/null
if listening "$METRICS_ADDR"; then
  say "metrics=$METRICS_ADDR"
  exit 0
fi
say "restarting Docker for its metrics address $METRICS_ADDR"
systemctl restart docker || fail "restarting Docker for its metrics address failed: $(systemctl status docker 2>&1 | tail -n 5)"
# back: active in the swarm, listening, and a manager answers for the swarm again (it has rejoined Raft).
back() {
  [ "$(swarm_state)" = active ] && listening "$METRICS_ADDR" &&
    { [ "$ROLE" != manager ] || docker node ls -q >/dev/null 2>&1; }
}
i=0
until back; do
  if [ "$(swarm_state)" = locked ]; then
    [ -n "$unlock_key" ] || fail "after restarting Docker the swarm is locked here (autolock) and no unlock key was given"
    printf '%s\n' "$unlock_key" | docker swarm unlock >/dev/null 2>&1 || fail "after restarting Docker, 'docker swarm unlock' refused the cluster's unlock key"
  fi
  i=$((i + 1))
  [ "$i" -lt "$ATTEMPTS" ] || fail "after restarting Docker for its metrics address, the node is $(swarm_state) in the swarm (listening on $METRICS_ADDR: $(listening "$METRICS_ADDR" && echo yes || echo no)) after $ATTEMPTS checks, $INTERVAL s apart"
  sleep "$INTERVAL"
done
say "metrics=$METRICS_ADDR"

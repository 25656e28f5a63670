# shellcheck shell=sh
# On a manager, before a node leaves: drain it, wait (bounded) for its tasks to move, demote it if
# it is a manager. The manager running this is never demoted by itself.
: "${NODE:?}" "${HOST:?}" "${NODE_ID:?}" "${DRAIN_ATTEMPTS:?}"

docker node inspect "$NODE_ID" >/dev/null 2>&1 || { say "node $NODE_ID already gone"; exit 0; }
# Retried, as drains run at once: the swarm can refuse one as "update out of sequence".
retry 10 1 "draining $NODE_ID" docker node update --availability drain "$NODE_ID" >/dev/null
i=0
while :; do
  running=$(docker node ps --filter desired-state=running --format '{{.Name}} {{.CurrentState}}' "$NODE_ID" 2>/dev/null | grep -c Running || true)
  [ "$running" -eq 0 ] && break
  i=$((i + 1))
  if [ "$i" -ge "$DRAIN_ATTEMPTS" ]; then
    say "warning: $running task(s) still running on $NODE_ID after $DRAIN_ATTEMPTS checks; continuing"
    break
  fi
  sleep 0.5
done
self=$(docker info --format '{{.Swarm.NodeID}}')
if [ "$(docker node inspect --format '{{.Spec.Role}}' "$NODE_ID")" = manager ] && [ "$NODE_ID" != "$self" ]; then
  retry 10 1 "demoting $NODE_ID" docker node demote "$NODE_ID" >/dev/null
  say "demoted $NODE_ID"
fi
say "drained $NODE_ID"

# shellcheck shell=sh
# Makes this node leave the swarm (the delete step of a join or of init). A node already out of the
# swarm is left alone.
: "${NODE:?}" "${HOST:?}" "${FORCE=}"

state=$(swarm_state)
# A manager leaves as a worker, so that the others keep their quorum; the last one takes the swarm
# with it.
if [ "$state" = active ] && [ -z "$FORCE" ] && [ "$(docker info --format '{{.Swarm.ControlAvailable}}')" = true ]; then
  if [ "$(docker node ls --filter role=manager -q | wc -l)" -le 1 ]; then
    FORCE=--force
  else
    docker node demote "$(docker info --format '{{.Swarm.NodeID}}')" >/dev/null ||
      fail "demoting itself before leaving failed; the other managers may have lost their quorum"
    worker() { [ "$(docker info --format '{{.Swarm.ControlAvailable}}')" = false ]; }
    retry 15 2 "this node to be a worker" worker >/dev/null
  fi
fi
if [ "$state" = active ] || [ "$state" = locked ] || [ "$state" = pending ]; then
  # shellcheck disable=SC2086
  docker swarm leave $FORCE >/dev/null || fail "docker swarm leave failed; the node is still in the swarm"
  say "left the swarm"
fi

# shellcheck shell=sh
# Makes this node leave the swarm (the delete step of a join or of the bootstrap). A node already
# out of the swarm is left alone.
: "${NODE:?}" "${HOST:?}" "${FORCE=}"

state=$(swarm_state)
if [ "$state" = active ] || [ "$state" = locked ] || [ "$state" = pending ]; then
  # shellcheck disable=SC2086
  docker swarm leave $FORCE >/dev/null || fail "docker swarm leave failed; the node is still in the swarm"
  say "left the swarm"
fi

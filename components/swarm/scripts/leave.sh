# shellcheck shell=sh
# Makes this node leave the swarm (the delete step of a join or of init). A node already out of the
# swarm is left alone.
: "${NODE:?}" "${HOST:?}" "${FORCE=}"

state=$(swarm_state)
# A manager leaves as a worker, so that the others keep their quorum; the last one that Raft reaches
# takes the swarm with it. Managers that left just before may still count in Raft for a few seconds
# (a demotion refused for quorum): asked again, bounded.
control() { [ "$(docker info --format '{{.Swarm.ControlAvailable}}')" = true ]; }
worker() { ! control; }
if [ "$state" = active ] && [ -z "$FORCE" ] && control; then
  i=0
  while :; do
    others=$(docker node ls --filter role=manager --format '{{.Self}} {{.ManagerStatus}}' |
      awk '$1 == "false" && ($2 == "Reachable" || $2 == "Leader")' | wc -l)
    if [ "$others" -eq 0 ]; then
      FORCE=yes
      break
    fi
    if out=$(docker node demote "$(docker info --format '{{.Swarm.NodeID}}')" 2>&1); then
      retry 60 0.5 "this node to be a worker" worker >/dev/null
      break
    fi
    i=$((i + 1))
    [ "$i" -lt 60 ] || fail "demoting itself before leaving was refused 60 times, 0.5 s apart: $out"
    sleep 0.5
  done
fi
if [ "$state" = active ] || [ "$state" = locked ] || [ "$state" = pending ]; then
  docker swarm leave ${FORCE:+--force} >/dev/null || fail "docker swarm leave failed; the node is still in the swarm"
  say "left the swarm"
fi

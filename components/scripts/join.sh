# shellcheck shell=sh
# Joins this node to the cluster's swarm with the token given on stdin (never on the command line
# that Pulumi stores). A node already in this swarm is left alone; one in another swarm is refused.
: "${NODE:?}" "${HOST:?}" "${ADVERTISE_ADDR:?}" "${SWARM_PORT:?}" "${JOIN_ADDR:?}" "${MANAGERS:?}" "${DATA_PATH_ADDR=}"

IFS= read -r token || true
[ -n "$token" ] || fail "no join token on stdin"

in_this_swarm() {
  for managed in $(docker info --format '{{range .Swarm.RemoteManagers}}{{.Addr}} {{end}}'); do
    for m in $MANAGERS; do
      [ "${managed%:*}" = "$m" ] && return 0
    done
  done
  return 1
}

state=$(swarm_state)
case "$state" in
  active)
    in_this_swarm ||
      fail "already belongs to another swarm (managers: $(docker info --format '{{range .Swarm.RemoteManagers}}{{.Addr}} {{end}}')); run 'docker swarm leave --force' there or remove it from nodes"
    say "already in this swarm"
    ;;
  locked) fail "its swarm is locked (autolock); run 'docker swarm unlock' there, then run again" ;;
  inactive)
    say "joining through $JOIN_ADDR:$SWARM_PORT"
    retry 10 3 "docker swarm join through $JOIN_ADDR:$SWARM_PORT" \
      docker swarm join --token "$token" --advertise-addr "$ADVERTISE_ADDR:$SWARM_PORT" \
      --listen-addr "0.0.0.0:$SWARM_PORT" ${DATA_PATH_ADDR:+--data-path-addr "$DATA_PATH_ADDR"} \
      "$JOIN_ADDR:$SWARM_PORT" >/dev/null
    ;;
  *) fail "swarm state is '$state'; expected active or inactive" ;;
esac
say "node=$(docker info --format '{{.Swarm.NodeID}}')"

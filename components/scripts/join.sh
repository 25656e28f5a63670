# shellcheck shell=sh
# Joins this node to the cluster's swarm with the token given on stdin (never on the command line
# that Pulumi stores). A node already in this swarm is left alone; one in another swarm is refused.
: "${NODE:?}" "${HOST:?}" "${ADVERTISE_ADDR:?}" "${SWARM_PORT:?}" "${JOIN_ADDR:?}" "${MANAGERS:?}" "${DATA_PATH_ADDR=}"

# Globbing off: the address lists below are split into words, never matched against files.
set -f
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
    # Through JOIN_ADDR (the bootstrap manager), else any other manager; never itself (a replaced
    # manager's host joins through the others).
    through=""
    for m in $JOIN_ADDR $MANAGERS; do
      case " $through $ADVERTISE_ADDR " in *" $m "*) ;; *) through="${through:+$through }$m" ;; esac
    done
    join_any() {
      for m in $through; do
        if out=$(timeout 30 docker swarm join --token "$token" --advertise-addr "$ADVERTISE_ADDR:$SWARM_PORT" \
          --listen-addr "0.0.0.0:$SWARM_PORT" ${DATA_PATH_ADDR:+--data-path-addr "$DATA_PATH_ADDR"} \
          "$m:$SWARM_PORT" 2>&1); then
          return 0
        fi
        [ "$(swarm_state)" = active ] && return 0
        last="$m: $out"
      done
      echo "$last"
      return 1
    }
    say "joining through $through"
    retry 10 3 "docker swarm join" join_any
    ;;
  *) fail "swarm state is '$state'; expected active or inactive" ;;
esac
say "node=$(docker info --format '{{.Swarm.NodeID}}')"

# shellcheck shell=sh
# Initialises the swarm on the bootstrap manager, unless this node already manages one (later runs
# are on the step manager, which does: they only report the cluster ID). Refuses to create a second
# swarm when another of the cluster's managers already runs one.
: "${NODE:?}" "${HOST:?}" "${ADVERTISE_ADDR:?}" "${SWARM_PORT:?}" "${OTHER_MANAGERS=}" "${INIT_FLAGS=}" "${UPDATE_FLAGS=}"

# Globbing off: the address lists below are split into words, never matched against files.
set -f
state=$(swarm_state)
case "$state" in
  active)
    [ "$(docker info --format '{{.Swarm.ControlAvailable}}')" = true ] ||
      fail "is in a swarm as a worker, but is the bootstrap manager; run 'docker swarm leave' there or choose another bootstrapManager"
    # Options that can change after init (autolock, certificate expiry, task history).
    # Flags are lines, one argument each.
    by_lines
    # shellcheck disable=SC2086 # split at newlines only, globbing off
    [ -z "$UPDATE_FLAGS" ] || docker swarm update $UPDATE_FLAGS >/dev/null
    by_words
    ;;
  locked) fail "its swarm is locked (autolock); run 'docker swarm unlock' there with the unlock key, then run again" ;;
  inactive)
    for peer in $OTHER_MANAGERS; do
      # The address and port are the inner script's arguments, never part of its text.
      # shellcheck disable=SC2016
      if timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2"' probe "$peer" "$SWARM_PORT" 2>/dev/null; then
        fail "is not in a swarm, but manager $peer already listens on $SWARM_PORT, so no second swarm is made here; this run found no manager that manages the swarm: check that Pulumi reaches the managers over SSH, then run again"
      fi
    done
    say "initialising the swarm on $ADVERTISE_ADDR:$SWARM_PORT"
    by_lines
    # shellcheck disable=SC2086 # split at newlines only, globbing off
    docker swarm init --advertise-addr "$ADVERTISE_ADDR:$SWARM_PORT" --listen-addr "0.0.0.0:$SWARM_PORT" $INIT_FLAGS >/dev/null
    by_words
    ;;
  *) fail "swarm state is '$state'; expected active or inactive" ;;
esac
say "cluster=$(docker info --format '{{.Swarm.Cluster.ID}}')"
say "node=$(docker info --format '{{.Swarm.NodeID}}')"

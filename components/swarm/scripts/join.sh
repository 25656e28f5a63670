# shellcheck shell=sh
# Joins this node to the cluster's swarm with the token given on stdin (never on the command line
# that Pulumi stores, nor on any process's: the join is asked of the engine's API, its request
# written to curl's stdin). A node already in this swarm is left alone; one in another swarm is
# refused. A manager of an autolocked swarm gets the unlock key on stdin's second line: locked
# (its engine restarted), it is unlocked first.
: "${NODE:?}" "${HOST:?}" "${ADVERTISE_ADDR:?}" "${SWARM_PORT:?}" "${JOIN_ADDR:?}" "${MANAGERS:?}" "${DATA_PATH_ADDR=}"

# Globbing off: the address lists below are split into words, never matched against files.
set -f
IFS= read -r token || true
IFS= read -r unlock_key || true
[ -n "$token" ] || fail "no join token on stdin"
# A token is SWMTKN-1- and base-36 words.
case "$token" in
  SWMTKN-1-*[!a-z0-9-]* | SWMTKN-1-) fail "the join token on stdin is not a swarm join token" ;;
  SWMTKN-1-*) ;;
  *) fail "the join token on stdin is not a swarm join token" ;;
esac

in_this_swarm() {
  for managed in $(docker info --format '{{range .Swarm.RemoteManagers}}{{.Addr}} {{end}}'); do
    for m in $MANAGERS; do
      [ "${managed%:*}" = "$m" ] && return 0
    done
  done
  return 1
}

state=$(swarm_state)
if [ "$state" = locked ] && [ -n "$unlock_key" ]; then
  printf '%s\n' "$unlock_key" | docker swarm unlock >/dev/null 2>&1 ||
    fail "its swarm is locked (autolock) and 'docker swarm unlock' refused the cluster's unlock key"
  say "unlocked with the cluster's unlock key"
  state=$(swarm_state)
fi
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
        # POST /swarm/join, as `docker swarm join` sends it; the token reaches jq on its stdin.
        if out=$(printf '%s\n' "$token" |
          jq -cR --arg listen "0.0.0.0:$SWARM_PORT" --arg advertise "$ADVERTISE_ADDR:$SWARM_PORT" \
            --arg remote "$m:$SWARM_PORT" --arg data "$DATA_PATH_ADDR" \
            '{ListenAddr: $listen, AdvertiseAddr: $advertise, RemoteAddrs: [$remote], JoinToken: .}
              + (if $data == "" then {} else {DataPathAddr: $data} end)' |
          timeout 30 curl -sS --unix-socket /var/run/docker.sock -H 'Content-Type: application/json' \
            --data-binary @- -w '\n%{http_code}' http://localhost/swarm/join 2>&1) &&
          [ "${out##*"$NL"}" = 200 ]; then
          return 0
        fi
        [ "$(swarm_state)" = active ] && return 0
        last="$m: $out"
      done
      echo "$last"
      return 1
    }
    { command -v curl && command -v jq; } >/dev/null 2>&1 || apt_install curl jq
    say "joining through $through"
    retry 10 3 "docker swarm join" join_any
    ;;
  *) fail "swarm state is '$state'; expected active or inactive" ;;
esac
say "node=$(docker info --format '{{.Swarm.NodeID}}')"

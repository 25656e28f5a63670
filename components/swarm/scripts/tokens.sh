# shellcheck shell=sh
# Reads the join tokens (and the unlock key with autolock) on a manager. Its output is a secret.
# With ROTATION, both join tokens are rotated first, once per value: the value is kept in the swarm
# as a config object, which every manager sees, so a rerun here or on another manager does not
# rotate again.
: "${NODE:?}" "${HOST:?}" "${AUTOLOCK:?}" "${ROTATION=}"

if [ -n "$ROTATION" ]; then
  marker="swarm-ha-join-tokens-$ROTATION"
  if ! docker config inspect "$marker" >/dev/null 2>&1; then
    docker swarm join-token --rotate -q worker >/dev/null
    docker swarm join-token --rotate -q manager >/dev/null
    printf '%s\n' "$ROTATION" |
      docker config create --label swarm-ha.join-tokens=rotation "$marker" - >/dev/null
  fi
  docker config ls --filter label=swarm-ha.join-tokens=rotation --format '{{.Name}}' |
    grep -vx "$marker" | xargs -r docker config rm >/dev/null
fi
say "manager=$(docker swarm join-token -q manager)"
say "worker=$(docker swarm join-token -q worker)"
if [ "$AUTOLOCK" = true ]; then
  say "unlock=$(docker swarm unlock-key -q)"
fi

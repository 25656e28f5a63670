# shellcheck shell=sh
# Reads the join tokens (and the unlock key with autolock) on a manager. Its output is a secret.
: "${NODE:?}" "${HOST:?}" "${AUTOLOCK:?}"

say "manager=$(docker swarm join-token -q manager)"
say "worker=$(docker swarm join-token -q worker)"
if [ "$AUTOLOCK" = true ]; then
  say "unlock=$(docker swarm unlock-key -q)"
fi

# shellcheck shell=sh
# On the manager named by `recovery`: a swarm that lost the majority of its managers is made whole
# again from this node, as Docker's admin guide has it, with `docker swarm init --force-new-cluster`:
# from this manager's own state (it survived), or with BACKUP from a backup restored first (no
# manager survived: BACKUP is "latest", the newest record in TARGET, or one archive's file name).
# A swarm that has its quorum here is left alone, so the step changes nothing once it has run. An
# autolocked swarm's restored manager is locked: it is unlocked by hand (the key is the stack's).
: "${NODE:?}" "${HOST:?}" "${ADVERTISE_ADDR:?}" "${SWARM_PORT:?}" "${ATTEMPTS:?}" "${INTERVAL:?}" "${BACKUP=}" "${TARGET=}"
: "${DOCKER_ROOT:=/var/lib/docker}"

# Globbing off: a record's words are split below, never matched against files.
set -f

quorum() { docker node ls -q >/dev/null 2>&1; }
locked_here() {
  fail "recovery: its swarm is locked (autolock); unlock it with the stack's key (pulumi stack output unlockKey --show-secrets | ssh root@$HOST docker swarm unlock), then run again"
}
state=$(swarm_state)
if [ "$state" = active ] && quorum; then
  say "recovery: the swarm has its quorum here; nothing to recover"
  exit 0
fi
[ "$state" = locked ] && locked_here

if [ -n "$BACKUP" ]; then
  # The archive and its record: the newest by time, or the one named; its digest checked first.
  if [ "$BACKUP" = latest ]; then
    record=$(find "$TARGET" -maxdepth 1 -name 'swarm-*.txt' -exec basename {} .txt \; 2>/dev/null |
      sort -t- -k3,3 | tail -n 1)
  else
    record=${BACKUP%.tar.gz}
  fi
  case "$record" in
    "") fail "recovery: no backup of a swarm with its record in $TARGET" ;;
    swarm-*[!a-zA-Z0-9-]*) fail "recovery: no backup is named ${BACKUP}" ;;
    swarm-*) ;;
    *) fail "recovery: no backup is named ${BACKUP}" ;;
  esac
  if [ ! -f "$TARGET/$record.txt" ] || [ ! -f "$TARGET/$record.tar.gz" ]; then
    fail "recovery: no backup $record with its record in $TARGET"
  fi
  sum=""
  words=$(cat "$TARGET/$record.txt")
  for pair in $words; do
    case "$pair" in sha256=*) sum=${pair#sha256=} ;; esac
  done
  [ "$(sha256sum "$TARGET/$record.tar.gz" | cut -d' ' -f1)" = "$sum" ] ||
    fail "recovery: $TARGET/$record.tar.gz does not match the digest its record holds"
  say "recovery: restoring $record.tar.gz"
  systemctl stop docker.socket docker.service || fail "recovery: stopping the engine for the restore failed"
  if [ -d "$DOCKER_ROOT/swarm" ]; then
    mv "$DOCKER_ROOT/swarm" "$DOCKER_ROOT/swarm.before-restore.$(date -u +%Y%m%dT%H%M%SZ)"
  fi
  restored=yes
  tar -C "$DOCKER_ROOT" -xzf "$TARGET/$record.tar.gz" swarm || restored=no
  systemctl reset-failed docker.socket docker.service >/dev/null 2>&1 || true
  systemctl start docker.service || fail "recovery: starting the engine after the restore failed"
  [ "$restored" = yes ] || fail "recovery: extracting $record.tar.gz into $DOCKER_ROOT failed"
  # The restored manager looks for its old peers: pending, until it is forced into a new cluster.
  i=0
  while state=$(swarm_state) && [ "$state" != pending ] && [ "$state" != active ]; do
    [ "$state" = locked ] && locked_here
    i=$((i + 1))
    [ "$i" -lt "$ATTEMPTS" ] || fail "recovery: after the restore, the engine is $state after $ATTEMPTS checks, $INTERVAL s apart"
    sleep "$INTERVAL"
  done
fi

# Active or pending (a manager that looks for a quorum it lost).
[ "$state" = active ] || [ "$state" = pending ] ||
  fail "recovery: this engine is $state in no swarm; name a manager that survived, or a backup to restore (recovery.backup)"
say "recovery: forcing a new cluster from this manager at $ADVERTISE_ADDR:$SWARM_PORT"
docker swarm init --force-new-cluster --advertise-addr "$ADVERTISE_ADDR:$SWARM_PORT" >/dev/null ||
  fail "recovery: 'docker swarm init --force-new-cluster' failed"
i=0
until quorum; do
  i=$((i + 1))
  [ "$i" -lt "$ATTEMPTS" ] || fail "recovery: the new cluster has no leader after $ATTEMPTS checks, $INTERVAL s apart"
  sleep "$INTERVAL"
done
say "recovery: cluster=$(docker info --format '{{.Swarm.Cluster.ID}}'), this manager alone; the others join it again"

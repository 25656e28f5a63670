# shellcheck shell=sh
# On a manager: one backup of the swarm's Raft state (/var/lib/docker/swarm) into TARGET, as
# Docker's admin guide has it: copied with this manager's engine stopped, which only happens while
# the other managers keep the quorum. Then the archive is checked, its record written beside it
# (NAME.txt: the cluster ID, the time, whether restoring needs the unlock key; never the key), and
# the oldest backups of this cluster beyond KEEP are removed.
# TAKER=self: this manager takes it (a run's step, on the step manager). TAKER=first: the timer
# fires on every manager at once, and only the first reachable manager that does not lead (by its
# swarm address) takes it.
# REASON (a word) is written in the record: "schedule", or "change" (before the managers change).
# With AUTOLOCK=true, the unlock key comes on stdin (a run's step): the restarted engine is locked until
# given it. A scheduled backup of an autolocked swarm is skipped: no key is kept on the hosts.
: "${NODE:?}" "${HOST:?}" "${TARGET:?}" "${KEEP:?}" "${ATTEMPTS:?}" "${INTERVAL:?}" "${REASON:?}" "${TAKER:?}" "${AUTOLOCK:=false}"
# Where the engine keeps its state, and the lock of this host's backups (elsewhere only in tests).
: "${DOCKER_ROOT:=/var/lib/docker}" "${BACKUP_LOCK:=/run/lock/swarm-ha-backup.lock}"

unlock_key=""
if [ "$TAKER" = self ] && [ "$AUTOLOCK" = true ]; then
  IFS= read -r unlock_key || true
fi

# One backup at a time on this host (the timer's and a run's); fd 8, apt's turns use 9.
exec 8>"$BACKUP_LOCK"
flock -w 600 8 || fail "another backup on this host did not finish within 600 s"

if ! command -v docker >/dev/null 2>&1 || ! systemctl is-active -q docker.service; then
  say "backup: no engine runs here yet; nothing to back up"
  exit 0
fi
# shellcheck disable=SC2046 # four words: state, control, cluster ID, autolock
set -- $(docker info --format '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}} {{if .Swarm.Cluster}}{{.Swarm.Cluster.ID}} {{.Swarm.Cluster.Spec.EncryptionConfig.AutoLockManagers}}{{end}}' 2>/dev/null || echo unknown)
if [ "${1:-}" != active ] || [ "${2:-}" != true ] || [ -z "${3:-}" ]; then
  say "backup: this engine manages no swarm (${1:-unknown}); nothing to back up"
  exit 0
fi
cluster=$3
autolock=${4:-false}
if [ "$autolock" = true ] && [ -z "$unlock_key" ]; then
  say "backup: skipped: the swarm is autolocked and no unlock key is kept on the hosts, so a stopped engine would stay locked; an autolocked swarm is backed up by 'pulumi up' before its managers change"
  exit 0
fi

# The managers and how Raft reaches them: "REACHABILITY LEADER ADDRESS", one line each.
# shellcheck disable=SC2046 # node IDs, one word each
# A manager's entry out of Raft (lost, after a recovery) has no status: it counts as unreachable.
managers=$(docker node inspect --format '{{if .ManagerStatus}}{{.ManagerStatus.Reachability}} {{.ManagerStatus.Leader}} {{.ManagerStatus.Addr}}{{else}}unreachable false -{{end}}' $(docker node ls -q --filter role=manager)) ||
  fail "backup: listing the swarm's managers failed"
total=$(printf '%s\n' "$managers" | grep -c .)
reachable=$(printf '%s\n' "$managers" | grep -c '^reachable ')
majority=$((total / 2 + 1))
if [ $((reachable - 1)) -lt "$majority" ]; then
  say "backup: skipped: stopping this engine would leave $((reachable - 1)) of $total managers reachable, and the quorum needs $majority"
  exit 0
fi
if [ "$TAKER" = first ]; then
  self=$(docker node inspect --format '{{.ManagerStatus.Addr}}' self)
  first=$(printf '%s\n' "$managers" | awk '$1 == "reachable" && $2 == "false" { print $3 }' | sort | head -n 1)
  if [ "$first" != "$self" ]; then
    say "backup: taken by the manager at ${first:-none}"
    exit 0
  fi
fi

umask 077
mkdir -p -- "$TARGET"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
name="swarm-$(printf '%s' "$cluster" | cut -c1-12)-$stamp-$NODE"
work=$(mktemp -d "$TARGET/.backup.XXXXXX")
trap 'rm -rf "$work"' EXIT
# Its tasks move first, as for a node that leaves: drained, and waited for (bounded); its own
# availability is given back once it manages the swarm again. Stopped otherwise, they would fail
# their requests until the swarm found the node down.
availability=$(docker node inspect --format '{{.Spec.Availability}}' self)
running() { docker node ps --filter desired-state=running --format '{{.CurrentState}}' self 2>/dev/null | grep -c Running || true; }
if [ "$availability" != drain ] && [ "$(running)" -gt 0 ]; then
  retry 10 1 "draining this node for the copy" docker node update --availability drain self >/dev/null
  i=0
  while [ "$(running)" -gt 0 ] && [ "$i" -lt "$ATTEMPTS" ]; do
    i=$((i + 1))
    sleep "$INTERVAL"
  done
  say "backup: drained this node's tasks ($(running) still running)"
fi
say "backup: stopping this engine for the copy ($reachable of $total managers reachable, the quorum needs $majority)"
stopped=$(date +%s)
# start_again: whatever happened, the engine runs again (a stop refused or cut short leaves systemd's
# start limit hit; it is reset first).
start_again() {
  systemctl reset-failed docker.socket docker.service 8>&- >/dev/null 2>&1 || true
  systemctl start docker.service 8>&- ||
    fail "backup: starting the engine again failed: $(systemctl status docker 2>&1 | tail -n 5)"
}
# The socket too: a client's connection would start the engine again in the middle of the copy.
if ! why=$(systemctl stop docker.socket docker.service 8>&- 2>&1) || systemctl is-active -q docker.service; then
  start_again
  fail "backup: the engine could not be stopped for the copy (something started it again: ${why:-it is still active}); it runs again"
fi
copied=yes
tar -C "$DOCKER_ROOT" -cf "$work/swarm.tar" swarm || copied=no
start_again
[ "$copied" = yes ] || fail "backup: copying $DOCKER_ROOT/swarm into $TARGET failed (the engine runs again)"
# Back: the engine manages the swarm again (unlocked with the key, when it is autolocked).
i=0
state=""
while :; do
  state=$(swarm_state)
  if [ "$state" = locked ] && [ -n "$unlock_key" ]; then
    printf '%s\n' "$unlock_key" | docker swarm unlock >/dev/null 2>&1 ||
      fail "backup: after the copy, 'docker swarm unlock' refused the cluster's unlock key"
  fi
  if [ "$state" = active ] && docker node ls -q >/dev/null 2>&1; then
    break
  fi
  i=$((i + 1))
  [ "$i" -lt "$ATTEMPTS" ] || fail "backup: after the copy, the engine is $state in the swarm after $ATTEMPTS checks, $INTERVAL s apart"
  sleep "$INTERVAL"
done
down=$(($(date +%s) - stopped))
if [ "$(docker node inspect --format '{{.Spec.Availability}}' self)" != "$availability" ]; then
  retry 10 1 "giving this node its availability back" docker node update --availability "$availability" self >/dev/null
fi

gzip -c "$work/swarm.tar" >"$work/$name.tar.gz"
rm -f "$work/swarm.tar"
backup_seal "$work" "$name" "the Raft state (swarm/raft)" 'swarm/raft/.*' \
  "kind=swarm cluster=$cluster node=$NODE time=$stamp autolock=$autolock reason=$REASON"
# Only this cluster's backups are pruned.
backup_prune "swarm-$(printf '%s' "$cluster" | cut -c1-12)"
say "backup=$name.tar.gz"
say "backup: $TARGET/$name.tar.gz ($backup_bytes bytes, checked), the engine stopped for $down s; $backup_pruned older removed, $KEEP kept at most"

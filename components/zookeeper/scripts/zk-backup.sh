# shellcheck shell=sh
# On a ZooKeeper server: one backup of its latest snapshot and the transaction logs after it, as
# ZooKeeper's admin guide has it (a snapshot is fuzzy; the logs from the one holding its zxid on
# make it whole), copied while the server runs: a snapshot file does not change once written, and
# a log's unfinished last entry is dropped when ZooKeeper reads it. Into TARGET as
# zookeeper-MYID-TIME.tar.gz (version-2/ inside, ready to place in an empty dataDir), checked, with
# its record beside it (NAME.txt: the server, the time, the snapshot's zxid); the oldest of this
# server's beyond KEEP are removed. REASON (a word) is written in the record.
: "${NODE:?}" "${HOST:?}" "${MYID:?}" "${DATA_DIR:?}" "${DATA_LOG_DIR:?}" "${TARGET:?}" "${KEEP:?}" "${REASON:?}"
: "${BACKUP_LOCK:=/run/lock/swarm-ha-zk-backup.lock}"

exec 8>"$BACKUP_LOCK"
flock -w 600 8 || fail "another ZooKeeper backup on this host did not finish within 600 s"

snaps="$DATA_DIR/version-2"
logs="$DATA_LOG_DIR/version-2"
# The newest snapshot by its zxid (the hex after "snapshot."), and that zxid as a number.
zxid_of() { printf '%d' "0x${1#*.}"; }
snap_names=$(find "$snaps" -maxdepth 1 -type f -name 'snapshot.*' -exec basename {} \; 2>/dev/null || true)
log_names=$(find "$logs" -maxdepth 1 -type f -name 'log.*' -exec basename {} \; 2>/dev/null || true)
latest=""
latest_zxid=-1
by_lines
for f in $snap_names; do
  case "${f#snapshot.}" in *[!0-9a-f]* | '') continue ;; esac
  z=$(zxid_of "$f")
  if [ "$z" -gt "$latest_zxid" ]; then
    latest=$f
    latest_zxid=$z
  fi
done
if [ -z "$latest" ]; then
  say "backup: no snapshot in $snaps yet; nothing to back up"
  exit 0
fi
# The logs: the last one starting at or before the snapshot's zxid, and every later one.
first_log=0
for f in $log_names; do
  case "${f#log.}" in *[!0-9a-f]* | '') continue ;; esac
  z=$(zxid_of "$f")
  if [ "$z" -le "$latest_zxid" ] && [ "$z" -gt "$first_log" ]; then first_log=$z; fi
done

umask 077
mkdir -p -- "$TARGET"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
name="zookeeper-$MYID-$stamp"
work=$(mktemp -d "$TARGET/.backup.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir "$work/version-2"
cp -p -- "$snaps/$latest" "$work/version-2/"
copied_logs=0
for f in $log_names; do
  case "${f#log.}" in *[!0-9a-f]* | '') continue ;; esac
  if [ "$(zxid_of "$f")" -ge "$first_log" ]; then
    cp -p -- "$logs/$f" "$work/version-2/"
    copied_logs=$((copied_logs + 1))
  fi
done
tar -C "$work" -czf "$work/$name.tar.gz" version-2
backup_seal "$work" "$name" "the snapshot $latest" "version-2/$latest" \
  "kind=zookeeper server=$MYID node=$NODE time=$stamp zxid=${latest#snapshot.} reason=$REASON"
backup_prune "zookeeper-$MYID"
say "backup=$name.tar.gz"
say "backup: $TARGET/$name.tar.gz ($backup_bytes bytes, checked): $latest and $copied_logs log(s); $backup_pruned older removed, $KEEP kept at most"

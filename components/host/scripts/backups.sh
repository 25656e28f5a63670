# shellcheck shell=sh
# Helpers of the backup steps (swarm/scripts/backup.sh, zookeeper/scripts/zk-backup.sh), sourced
# after lib.sh: an archive sealed where it lies, and the oldest removed beyond KEEP.

# backup_seal WORK NAME WHAT PATTERN RECORD: moves WORK/NAME.tar.gz into TARGET and checks it there
# (the same digest, and a file matching PATTERN, a whole-line grep pattern, among its files; else it
# fails naming WHAT), then writes its record NAME.txt, "file=NAME.tar.gz RECORD bytes=N sha256=HEX",
# last: a backup without a record is neither listed, restored nor kept. Sets backup_bytes.
backup_seal() {
  _work=$1 _name=$2 _what=$3 _pattern=$4 _record=$5
  _sum=$(sha256sum "$_work/$_name.tar.gz" | cut -d' ' -f1)
  backup_bytes=$(wc -c <"$_work/$_name.tar.gz")
  mv -- "$_work/$_name.tar.gz" "$TARGET/$_name.tar.gz"
  [ "$(sha256sum "$TARGET/$_name.tar.gz" | cut -d' ' -f1)" = "$_sum" ] ||
    fail "backup: $TARGET/$_name.tar.gz does not read back as written"
  tar -tzf "$TARGET/$_name.tar.gz" | grep -qx "$_pattern" ||
    fail "backup: $TARGET/$_name.tar.gz does not hold $_what"
  printf 'file=%s.tar.gz %s bytes=%s sha256=%s\n' "$_name" "$_record" "$backup_bytes" "$_sum" >"$_work/$_name.txt"
  mv -- "$_work/$_name.txt" "$TARGET/$_name.txt"
}

# backup_prune PREFIX: the backups in TARGET named PREFIX-..., oldest first by their time (the name's
# third '-' field), those beyond KEEP removed, each record first. Sets backup_pruned.
backup_prune() {
  _old=$(find "$TARGET" -maxdepth 1 -name "$1-*.txt" -exec basename {} .txt \; |
    sort -t- -k3,3 | head -n "-$KEEP")
  backup_pruned=0
  by_lines
  for _gone in $_old; do
    rm -f -- "$TARGET/$_gone.txt" "$TARGET/$_gone.tar.gz"
    backup_pruned=$((backup_pruned + 1))
  done
  by_words
}

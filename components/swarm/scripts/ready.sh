# shellcheck shell=sh
# On a manager: waits (bounded) until every expected node is Ready and every manager Reachable,
# then prints one line per node: name id role state reachability leader address. The nodes named in
# UNREACHABLE (their host did not answer when the run started) are listed, not waited for.
# RESTARTED names the engine runs restarted for being lost (NODE=INVOCATION ...): not read here, it
# makes the check run again after each such restart.
: "${NODE:?}" "${HOST:?}" "${EXPECTED:?}" "${ATTEMPTS:?}" "${INTERVAL:?}" "${UNREACHABLE=}" "${RESTARTED=}"

report() {
  printf '%s\n' "$EXPECTED" | while read -r name id role; do
    [ -n "$name" ] || continue
    seen=$(docker node inspect --format '{{.Status.State}} {{if .ManagerStatus}}{{.ManagerStatus.Reachability}} {{.ManagerStatus.Leader}} {{.ManagerStatus.Addr}}{{else}}- false {{.Status.Addr}}{{end}}' "$id" 2>&1 | tr '\n' ' ') ||
      seen="missing - false -"
    printf '%s %s %s %s\n' "$name" "$id" "$role" "$seen"
  done
}
not_ready() {
  printf '%s\n' "$1" | awk -v skip=" $UNREACHABLE " 'index(skip, " " $1 " ") == 0 && ($4 != "ready" || ($3 == "manager" && $5 != "reachable")) { print $1 " (" $4 ", " $5 ")" }'
}
i=0
while :; do
  seen=$(report)
  bad=$(not_ready "$seen")
  [ -z "$bad" ] && break
  i=$((i + 1))
  [ "$i" -lt "$ATTEMPTS" ] || fail "nodes not ready after $ATTEMPTS checks, $INTERVAL s apart: $(echo "$bad" | tr '\n' ' ')"
  sleep "$INTERVAL"
done
printf '%s\n' "$seen"

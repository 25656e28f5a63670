# shellcheck shell=sh
# On a manager, after a node left: waits (bounded) until the node is seen down, then removes its
# entry. Finds the node by its advertise address, as the node ID is not known when this is created.
: "${NODE:?}" "${HOST:?}" "${ADVERTISE_ADDR:?}"

find_node() {
  docker node ls -q | xargs -r docker node inspect --format '{{.ID}} {{.Status.Addr}} {{.Status.State}}' |
    awk -v a="$ADVERTISE_ADDR" '$2 == a { print $1, $3 }'
}
state=$(swarm_state)
[ "$state" = active ] || { say "this manager is not in a swarm; nothing to forget"; exit 0; }
i=0
while :; do
  entries=$(find_node)
  [ -z "$entries" ] && { say "no entry for $ADVERTISE_ADDR"; exit 0; }
  if ! printf '%s\n' "$entries" | grep -qv ' down$'; then break; fi
  i=$((i + 1))
  [ "$i" -lt 120 ] || fail "node at $ADVERTISE_ADDR still not down after 60 s; last: $entries"
  sleep 0.5
done
printf '%s\n' "$entries" | while read -r id _; do docker node rm "$id" >/dev/null && say "removed $id"; done

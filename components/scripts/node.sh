# shellcheck shell=sh
# On a manager: gives a node its role, availability and labels. The component owns the node's
# labels: labels not asked for are removed. Changing any of them updates in place.
: "${NODE:?}" "${HOST:?}" "${NODE_ID:?}" "${ROLE:?}" "${AVAILABILITY:?}" "${LABELS=}"

current_role=$(docker node inspect --format '{{.Spec.Role}}' "$NODE_ID") ||
  fail "node $NODE_ID is not known to this manager"
if [ "$current_role" != "$ROLE" ]; then
  if [ "$ROLE" = manager ]; then docker node promote "$NODE_ID" >/dev/null; else docker node demote "$NODE_ID" >/dev/null; fi
  say "role: $current_role -> $ROLE"
fi

set -- --availability "$AVAILABILITY"
for key in $(docker node inspect --format '{{range $k, $v := .Spec.Labels}}{{$k}} {{end}}' "$NODE_ID"); do
  keep=no
  for kv in $LABELS; do [ "${kv%%=*}" = "$key" ] && keep=yes; done
  [ $keep = yes ] || set -- "$@" --label-rm "$key"
done
for kv in $LABELS; do set -- "$@" --label-add "$kv"; done
docker node update "$@" "$NODE_ID" >/dev/null
say "node=$NODE_ID role=$ROLE availability=$AVAILABILITY labels=$(echo "$LABELS" | tr '\n' ' ')"

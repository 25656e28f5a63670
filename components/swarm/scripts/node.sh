# shellcheck shell=sh
# On a manager: gives a node its role, availability and labels. The component owns the node's
# labels: labels not asked for are removed. Changing any of them updates in place. A node that
# joined again (its host replaced, or it left by hand) has its old entries at the same address
# removed once they are down, a manager's demoted first (or, out of Raft after a recovery, removed
# by force).
: "${NODE:?}" "${HOST:?}" "${NODE_ID:?}" "${ADVERTISE_ADDR:?}" "${ROLE:?}" "${AVAILABILITY:?}" "${LABELS=}"

current_role=$(docker node inspect --format '{{.Spec.Role}}' "$NODE_ID") ||
  fail "node $NODE_ID is not known to this manager"
if [ "$current_role" != "$ROLE" ]; then
  if [ "$ROLE" = manager ]; then change=promote; else change=demote; fi
  retry 10 1 "docker node $change $NODE_ID" docker node "$change" "$NODE_ID" >/dev/null
  say "role: $current_role -> $ROLE"
fi

# Labels are KEY=VALUE lines; a value may hold spaces or glob characters, and stays one argument.
set -- --availability "$AVAILABILITY"
by_lines
for key in $(docker node inspect --format '{{range $k, $v := .Spec.Labels}}{{$k}}{{println}}{{end}}' "$NODE_ID"); do
  keep=no
  for kv in $LABELS; do [ "${kv%%=*}" = "$key" ] && keep=yes; done
  [ $keep = yes ] || set -- "$@" --label-rm "$key"
done
for kv in $LABELS; do set -- "$@" --label-add "$kv"; done
by_words
# Retried: updates of the swarm's nodes that run at once (other nodes' steps) can be refused as
# "update out of sequence".
retry 10 1 "the update of node $NODE_ID" docker node update "$@" "$NODE_ID" >/dev/null
say "node=$NODE_ID role=$ROLE availability=$AVAILABILITY labels=$(echo "$LABELS" | tr '\n' ' ')"

# Entries at this node's address other than its own: "ID ADDRESS STATE ROLE".
stale() {
  docker node ls -q | xargs -r docker node inspect --format \
    '{{.ID}} {{if .ManagerStatus}}{{.ManagerStatus.Addr}}{{else}}{{.Status.Addr}}{{end}} {{.Status.State}} {{.Spec.Role}}' |
    awk -v id="$NODE_ID" -v a="$ADVERTISE_ADDR" '{ sub(/:[0-9]+$/, "", $2) } $1 != id && $2 == a'
}
i=0
while entries=$(stale) && [ -n "$entries" ]; do
  if ! printf '%s\n' "$entries" | grep -qv ' down '; then
    printf '%s\n' "$entries" | while read -r id _ _ role; do
      if [ "$role" = manager ] && ! why=$(docker node demote "$id" 2>&1 >/dev/null); then
        # Out of Raft already (the swarm was forced into a new cluster without it): a manager no
        # longer, but only a forced removal says so.
        case "$why" in
          *"can't find manager in raft memberlist"*)
            docker node rm --force "$id" >/dev/null || fail "removing the old entry $id failed"
            ;;
          *) fail "demoting the old entry $id failed: $why" ;;
        esac
      else
        docker node rm "$id" >/dev/null || fail "removing the old entry $id failed"
      fi
      say "removed the old entry $id"
    done
    break
  fi
  i=$((i + 1))
  [ "$i" -lt 120 ] || fail "old entries at $ADVERTISE_ADDR not down after 60 s: $(echo "$entries" | tr '\n' ' ')"
  sleep 0.5
done

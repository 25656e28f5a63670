# shellcheck shell=sh
# With dynamic reconfiguration: makes the ensemble's membership exactly MEMBERS with one
# non-incremental `reconfig -members`, sent from this server as the super user (the password comes
# on stdin and is never printed). Added servers already run and follow the leader (the start step);
# removed ones leave the ensemble here, even its leader, and are stopped afterwards.
: "${NODE:?}" "${HOST:?}" "${MEMBERS:?}" "${CLASSPATH_ZK:?}" "${ATTEMPTS:?}"

IFS= read -r password || true
[ -n "$password" ] || fail "no super password on stdin: dynamic reconfiguration needs auth"

# members_of CONFIG: its server lines, sorted, without the client port (ZooKeeper adds it to a line
# that was added back after a leader's handover).
members_of() { printf '%s\n' "$1" | grep '^server\.' | sed 's/;.*//' | sort; }
# id_addresses MEMBERS: "id address" per server line.
id_addresses() { printf '%s\n' "$1" | sed -n 's/^server\.\([0-9]*\)=\([^:]*\):.*/\1 \2/p'; }
ids_of() { printf '%s\n' "$1" | sed -n 's/^server\.\([0-9]*\)=.*/\1/p' | sort -n | tr '\n' ' ' | sed 's/ $//'; }

desired=$(members_of "$MEMBERS")
answer=$(zk_cli 127.0.0.1 config)
current=$(members_of "$answer")
[ -n "$current" ] || fail "could not read the ensemble's configuration on $HOST:$CLIENT_PORT; ZooKeeper answered: $(printf '%s' "$answer" | tr '\n' ' ')"
if [ "$current" = "$desired" ]; then
  say "members: $(ids_of "$desired") (unchanged)"
  exit 0
fi

# Before: the members that stay serve, with one leader (it may be one that goes) that has them in
# sync; a member being removed need not answer. Every added server serves (it follows the leader).
current_servers=$(id_addresses "$current")
staying=$(kept_servers "$current_servers")
wait_healthy "$ATTEMPTS" "${staying:-$current_servers}" "$current_servers"
added=$(id_addresses "$(printf '%s\n' "$desired" | grep -vxF "$current" || true)")
[ -z "$added" ] || retry "$ATTEMPTS" 2 "the added servers to follow the leader" added_follow "$added" >/dev/null

say "members: $(ids_of "$current") -> $(ids_of "$desired")"
answer=$(zk_cli 127.0.0.1 "reconfig -members $(printf '%s\n' "$desired" | paste -sd, -)")
# reconfigured: succeeds when the ensemble's configuration is the list; else says what it is.
reconfigured() {
  _now=$(members_of "$(zk_cli 127.0.0.1 config)")
  [ "$_now" = "$desired" ] || { printf 'members %s; reconfig answered: %s' "$(ids_of "$_now")" "$(printf '%s' "$answer" | tr '\n' ' ')"; return 1; }
}
retry 60 0.5 "the reconfiguration to $(ids_of "$desired")" reconfigured >/dev/null
wait_healthy "$ATTEMPTS" "$SERVERS"
say "members: $(ids_of "$desired"), $(ensemble_report "$SERVERS" | awk '$3 == "leader" { print "leader " $1 }')"

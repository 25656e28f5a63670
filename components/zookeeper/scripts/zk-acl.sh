# shellcheck shell=sh
# With auth: gives the platform's users (the registrar) their znodes, as the super user. For each
# "USER PATH" line of OWNED: the path's missing parents and the path are created with the user's
# ACL (an existing parent is left as it is: it is not the user's), then the path and everything
# below it get that ACL, digest:USER:DIGEST:cdrwa,world:anyone:r (setAcl -R), and the root loses
# everyone's delete and admin rights (see below): znodes made before
# (open to everyone, or read-only to the user when an older registrar wrote them as super) become
# the user's. The super password and the users' digests come on stdin and reach ZooKeeper's CLI
# on its stdin only; nothing printed names a digest.
: "${NODE:?}" "${HOST:?}" "${ADDRESS:?}" "${OWNED:?}" "${CLASSPATH_ZK:?}" "${CLIENT_PORT:?}"

IFS= read -r password || true
[ -n "$password" ] || fail "no super password on stdin: the users' ACLs need auth"
digests=""
while IFS= read -r line || [ -n "$line" ]; do
  case "$line" in
    '' | *[!A-Za-z0-9_+/=:-]* | :* | *:*:*) fail "a user's digest on stdin is not USER:BASE64" ;;
  esac
  digests="$digests$line$NL"
done

# The commands, one per line: paths and names are checked again here (letters, digits, . _ -).
set -f
commands=""
creates=0
owned=""
while read -r user path; do
  [ -n "$user" ] || continue
  case "$user" in '' | *[!A-Za-z0-9_-]*) fail "user \"$user\" is not a plain name" ;; esac
  case "$path" in /*) ;; *) fail "path \"$path\" of $user is not absolute" ;; esac
  case "$path" in *[!A-Za-z0-9._/-]* | */ | *//* | */./* | */../* | */. | */..) fail "path \"$path\" of $user is not a plain ZooKeeper path" ;; esac
  digest=$(printf '%s' "$digests" | grep "^$user:" | head -n 1 || true)
  [ -n "$digest" ] || fail "no digest on stdin for user $user"
  acl="digest:$digest:cdrwa,world:anyone:r"
  prefix=""
  IFS=/
  for segment in ${path#/}; do
    prefix="$prefix/$segment"
    # '' is ZooKeeper's CLI's empty data, quoted for its parser, not the shell's.
    # shellcheck disable=SC2089
    commands="${commands}create $prefix '' $acl$NL"
    creates=$((creates + 1))
  done
  IFS=' '
  commands="${commands}setAcl -R $path $acl$NL"
  owned="$owned $path ($user)"
done <<OWNED
$OWNED
OWNED
# The root: anyone creates, reads and writes there, as before, but nobody deletes a znode under it
# (ZooKeeper asks the parent's delete right) or changes its ACL, so an anonymous client cannot
# delete an owned path while it is empty and make it again, open. (The super user is never asked.)
commands="${commands}setAcl / world:anyone:crw$NL"
IFS=$NL
# shellcheck disable=SC2086,SC2090 # one command per line, globbing off; the quotes are the CLI's
answer=$(zk_run "$ADDRESS" $commands)
unset IFS
set +f
# What ZooKeeper's CLI answers: "Created PATH", "Node already exists: PATH", or a problem.
problems=$(printf '%s\n' "$answer" | grep -v -e '^Created /' -e '^Node already exists: /' -e '^$' |
  grep -E 'Exception|KeeperErrorCode|[Ii]nsufficient|not valid|does not exist|[Nn]o quorum|refused|[Aa]uthentication|[Ee]rror' || true)
[ -z "$problems" ] || fail "giving the users their znodes on $ADDRESS:$CLIENT_PORT failed; ZooKeeper answered: $(printf '%s' "$problems" | tr '\n' ' ')"
# Every create answers one way or the other: fewer answers, and the CLI did not reach the server.
answered=$(printf '%s\n' "$answer" | grep -c -e '^Created /' -e '^Node already exists: /' || true)
[ "$answered" -eq "$creates" ] || fail "ZooKeeper's CLI on $ADDRESS:$CLIENT_PORT answered $answered of the $creates creates; it answered: $(printf '%s' "$answer" | tail -n 5 | tr '\n' ' ')"
created=$(printf '%s\n' "$answer" | sed -n 's/^Created //p' | paste -sd' ' -)
say "owned:$owned; ACLs set${created:+; created $created}"

# shellcheck shell=sh
# This server's key and certificate signing request, made here: the key never leaves the host. The
# CA signs the request where Pulumi runs and decides what the certificate says (its address); the
# request only carries the key and the subject zookeeper-MYID. Prints the request. Idempotent: a
# key already made for this rotation is kept and its request printed again, unchanged, so a re-run
# (new scripts, an interrupted run) signs nothing anew; a new rotation makes a new key. The key and
# the request stay in TLS_DIR/request, which root alone reads, for the step that builds the keystore.
: "${NODE:?}" "${HOST:?}" "${MYID:?}" "${TLS_DIR:?}" "${ROTATION:?}"

command -v openssl >/dev/null 2>&1 || apt_install openssl
# ZooKeeper's user reads the directory, nobody else; the request folder in it is root's alone.
install -d -o zookeeper -g zookeeper -m 0750 "$TLS_DIR"
req=$TLS_DIR/request
install -d -o root -g root -m 0700 "$req"
umask 077
want="zookeeper-$MYID rotation $ROTATION"

# kept: a key and a request for this rotation, the request signed by that key.
kept() {
  [ "$(cat "$req/for" 2>/dev/null)" = "$want" ] || return 1
  # openssl 3.0 exits 0 when the signature does not verify: its words tell.
  case $(openssl req -in "$req/server.csr" -noout -verify 2>&1) in *"verify OK"*) ;; *) return 1 ;; esac
  [ "$(openssl req -in "$req/server.csr" -noout -pubkey 2>/dev/null)" = \
    "$(openssl pkey -in "$req/server.key" -pubout 2>/dev/null)" ]
}

if kept; then
  say "server $MYID keeps its key of rotation $ROTATION"
else
  # Made aside, then moved in; the stamp goes last, so an interrupted run makes a key again.
  rm -rf "$req/new" "$req/for"
  mkdir "$req/new"
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=zookeeper-$MYID" \
    -keyout "$req/new/server.key" -out "$req/new/server.csr" 2>/dev/null ||
    fail "openssl could not make a key and a certificate request in $req/new"
  printf '%s\n' "$want" >"$req/new/for"
  mv "$req/new/server.key" "$req/server.key"
  mv "$req/new/server.csr" "$req/server.csr"
  mv "$req/new/for" "$req/for"
  rmdir "$req/new"
  say "server $MYID made a new key and certificate request (rotation $ROTATION)"
fi
cat "$req/server.csr"

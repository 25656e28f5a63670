# shellcheck shell=sh
# Builds this server's TLS files from its certificate, signed by the ensemble's CA where Pulumi
# runs, and the key the request step made here (TLS_DIR/request): on stdin the keystore's password
# (line 1), then the server's certificate and the CA's. The key and certificate go in a PKCS12
# keystore locked with that password, the password in a file only ZooKeeper reads, and the CA's
# certificate is the trust store. No CA key comes here. Files are replaced whole; a running server
# reads them at its next restart (the rolling restart that follows).
: "${NODE:?}" "${HOST:?}" "${MYID:?}" "${TLS_DIR:?}" "${ROTATION:?}" "${CA_SHA256:?}" "${CERT_SHA256:?}"

command -v openssl >/dev/null 2>&1 || apt_install openssl
IFS= read -r keystore_password
req=$TLS_DIR/request
[ -f "$req/server.key" ] ||
  fail "no key in $req: the request step (zk-tls-request) makes it before its certificate is signed"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
umask 077
cat >"$work/in.pem"
# The first certificate is the server's, the one after it the CA's; openssl writes each out again.
sed '1,/^-----END CERTIFICATE-----$/d' "$work/in.pem" >"$work/rest.pem"
if ! openssl x509 -in "$work/in.pem" -out "$work/server.crt" 2>/dev/null ||
  ! openssl x509 -in "$work/rest.pem" -out "$work/ca.crt" 2>/dev/null; then
  fail "stdin holds not the password, then this server's certificate and the CA's (PEM)"
fi
openssl verify -CAfile "$work/ca.crt" "$work/server.crt" >/dev/null 2>&1 ||
  fail "the certificate given for server $MYID is not signed by the CA given"
[ "$(openssl x509 -in "$work/server.crt" -noout -pubkey)" = "$(openssl pkey -in "$req/server.key" -pubout)" ] ||
  fail "the certificate given is for another key than $req/server.key (made again since it was signed?); raise tls.rotation to issue a new key and certificate"
printf '%s' "$keystore_password" >"$work/keystore.pass"
KEYSTORE_PASSWORD=$keystore_password openssl pkcs12 -export -name "zookeeper-$MYID" \
  -inkey "$req/server.key" -in "$work/server.crt" -certfile "$work/ca.crt" \
  -passout env:KEYSTORE_PASSWORD -out "$work/keystore.p12"
# ZooKeeper's user reads the directory, nobody else; every file in it is written aside first.
install -d -o zookeeper -g zookeeper -m 0750 "$TLS_DIR"
for f in keystore.p12 keystore.pass ca.crt; do
  install -o zookeeper -g zookeeper -m 0400 "$work/$f" "$TLS_DIR/$f.new"
  mv "$TLS_DIR/$f.new" "$TLS_DIR/$f"
done
chmod 0444 "$TLS_DIR/ca.crt"
say "server $MYID has a certificate for $(openssl x509 -in "$work/server.crt" -noout -ext subjectAltName 2>/dev/null | sed -n 's/^ *//p' | tail -n 1), serial $(openssl x509 -in "$work/server.crt" -noout -serial | sed 's/^serial=//') (rotation $ROTATION)"

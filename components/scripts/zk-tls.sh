# shellcheck shell=sh
# Issues this server's TLS material from the ensemble's CA, read on stdin after the keystore's
# password (line 1): a new key and certificate (for its address) in a PKCS12 keystore locked with
# that password, the password in a file only ZooKeeper reads, and the CA's certificate as the trust
# store. The CA's key is only ever in a temporary directory, removed on exit. Files are replaced
# whole; a running server reads them at its next restart (the rolling restart that follows).
: "${NODE:?}" "${HOST:?}" "${MYID:?}" "${ADDRESS:?}" "${TLS_DIR:?}" "${ROTATION:?}"

command -v openssl >/dev/null 2>&1 || apt_install openssl
IFS= read -r keystore_password
# ZooKeeper's user reads the directory, nobody else; every file in it is written aside first.
install -d -o zookeeper -g zookeeper -m 0750 "$TLS_DIR"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
umask 077
cat >"$work/ca.pem"
openssl x509 -in "$work/ca.pem" -out "$work/ca.crt" 2>/dev/null || fail "the CA given on stdin is not a PEM certificate and key"
case $ADDRESS in
  *[!0-9.]*) san="DNS:$ADDRESS" ;;
  *) san="IP:$ADDRESS" ;;
esac
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=zookeeper-$MYID" \
  -keyout "$work/server.key" -out "$work/server.csr" 2>/dev/null
printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth,clientAuth\n' "$san" >"$work/ext"
openssl x509 -req -in "$work/server.csr" -CA "$work/ca.crt" -CAkey "$work/ca.pem" -CAcreateserial \
  -days 825 -extfile "$work/ext" -out "$work/server.crt" 2>/dev/null
printf '%s' "$keystore_password" >"$work/keystore.pass"
KEYSTORE_PASSWORD=$keystore_password openssl pkcs12 -export -name "zookeeper-$MYID" \
  -inkey "$work/server.key" -in "$work/server.crt" -certfile "$work/ca.crt" \
  -passout env:KEYSTORE_PASSWORD -out "$work/keystore.p12"
for f in keystore.p12 keystore.pass ca.crt; do
  install -o zookeeper -g zookeeper -m 0400 "$work/$f" "$TLS_DIR/$f.new"
  mv "$TLS_DIR/$f.new" "$TLS_DIR/$f"
done
chmod 0444 "$TLS_DIR/ca.crt"
say "server $MYID has a certificate for $san, serial $(openssl x509 -in "$work/server.crt" -noout -serial | sed 's/^serial=//') (rotation $ROTATION)"

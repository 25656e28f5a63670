# shellcheck shell=sh
# Installs ZooKeeper and Java on a server: the OS packages ("distro") or Apache's binary tarball
# checked against its sha512 ("tarball"). Creates the service user and the data directories.
: "${NODE:?}" "${HOST:?}" "${METHOD:?}" "${DATA_DIR:?}" "${DATA_LOG_DIR:?}" "${URL=}" "${SHA512=}" "${VERSION=}" "${JAVA_PACKAGE:?}" "${TLS:=false}"

case "$METHOD" in
  distro)
    if [ ! -r /usr/share/java/zookeeper.jar ] || ! command -v java >/dev/null 2>&1; then
      say "installing zookeeper and $JAVA_PACKAGE from the OS packages"
      apt_install zookeeper "$JAVA_PACKAGE"
    fi
    classpath="/etc/zookeeper/conf:/usr/share/java/zookeeper.jar"
    # TLS needs Netty's codec, which the package's jar does not name (the tarball's lib/ has it).
    if [ "$TLS" = true ]; then
      [ -r /usr/share/java/netty-codec.jar ] || apt_install libnetty-java
      classpath="$classpath:/usr/share/java/netty-codec.jar"
    fi
    ;;
  tarball)
    home="/opt/zookeeper/$VERSION"
    if [ ! -d "$home/lib" ]; then
      command -v java >/dev/null 2>&1 || apt_install "$JAVA_PACKAGE"
      command -v curl >/dev/null 2>&1 || apt_install curl ca-certificates
      say "downloading ZooKeeper $VERSION"
      tmp=$(mktemp)
      retry 3 5 "downloading $URL" curl -fsSL "$URL" -o "$tmp" >/dev/null
      echo "$SHA512  $tmp" | sha512sum -c - >/dev/null 2>&1 ||
        { rm -f "$tmp"; fail "the tarball from $URL does not match the sha512 given in install.sha512"; }
      mkdir -p "$home"
      tar -xzf "$tmp" -C "$home" --strip-components=1
      rm -f "$tmp"
    fi
    classpath="$home/conf:$home/lib/*"
    ;;
  *) fail "install.method \"$METHOD\" is not one of distro, tarball" ;;
esac

# With dynamic reconfiguration a server sends its clients away before it stops (drain_clients).
if [ "${DYNAMIC:-false}" = true ] && ! command -v nft >/dev/null 2>&1; then
  apt_install nftables
fi
id zookeeper >/dev/null 2>&1 || useradd --system --home-dir "$DATA_DIR" --shell /usr/sbin/nologin zookeeper
mkdir -p "$DATA_DIR" "$DATA_LOG_DIR" /etc/zookeeper-ensemble
chown -R zookeeper: "$DATA_DIR" "$DATA_LOG_DIR"
say "classpath=$classpath"
say "java=$(java -version 2>&1 | head -n 1)"

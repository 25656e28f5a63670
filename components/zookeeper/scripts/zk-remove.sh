# shellcheck shell=sh
# A server taken out of the ensemble: stopped and disabled; its data is kept unless PURGE is true.
: "${NODE:?}" "${HOST:?}" "${DATA_DIR:?}" "${DATA_LOG_DIR:?}" "${PURGE:?}"

if systemctl list-unit-files zookeeper-ensemble.service >/dev/null 2>&1; then
  systemctl disable --now zookeeper-ensemble >/dev/null 2>&1 || true
fi
# A server added again later starts from the list it is given, not from one ZooKeeper wrote.
rm -f /etc/zookeeper-ensemble/running.hash /etc/zookeeper-ensemble/running.servers /etc/zookeeper-ensemble/zoo.cfg.dynamic*
# Its key and keystore password go with it: a server added again gets new ones.
rm -rf /etc/zookeeper-ensemble/tls
if [ "$PURGE" = true ]; then
  rm -rf "$DATA_DIR" "$DATA_LOG_DIR"
  say "stopped; data removed"
else
  say "stopped; data kept in $DATA_DIR"
fi

# shellcheck shell=sh
# Removes the cluster's firewall: its table, its unit and its files. Other rules stay as they are.
: "${NODE:?}" "${HOST:?}"

systemctl stop swarm-ha-firewall-rollback.timer >/dev/null 2>&1 || true
if [ -f /etc/systemd/system/swarm-ha-firewall.service ]; then
  systemctl disable --quiet swarm-ha-firewall.service || true
  rm -f /etc/systemd/system/swarm-ha-firewall.service
  systemctl daemon-reload
fi
if command -v nft >/dev/null 2>&1 && nft list table inet swarm_ha >/dev/null 2>&1; then
  nft delete table inet swarm_ha
  say "firewall removed"
fi
rm -rf /etc/swarm-ha/firewall
rmdir /etc/swarm-ha 2>/dev/null || true

# shellcheck shell=sh
# Run over a new SSH connection after firewall.sh: this connection is the proof that the new rules
# let SSH in, so the rollback is disarmed and the rules are kept across reboots.
: "${NODE:?}" "${HOST:?}" "${GENERATION:?}"

FW_DIR=/etc/swarm-ha/firewall
ROLLBACK=swarm-ha-firewall-rollback
UNIT=/etc/systemd/system/swarm-ha-firewall.service

if systemctl is-active --quiet "$ROLLBACK.timer"; then
  systemctl stop "$ROLLBACK.timer"
elif [ "$(cat "$FW_DIR/applied" 2>/dev/null)" != "$GENERATION" ]; then
  fail "the firewall rules $GENERATION were rolled back: no new SSH connection confirmed them in time"
fi
cp "$FW_DIR/pending.nft" "$FW_DIR/rules.nft"
if [ ! -f "$UNIT" ]; then
  cat >"$UNIT" <<UNIT
[Unit]
Description=swarm-ha: the cluster's firewall rules
Wants=network-pre.target
Before=network-pre.target docker.service
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/sbin/nft -f $FW_DIR/rules.nft
[Install]
WantedBy=multi-user.target
UNIT
  systemctl daemon-reload
  systemctl enable --quiet swarm-ha-firewall.service
fi
say "confirmed $GENERATION"

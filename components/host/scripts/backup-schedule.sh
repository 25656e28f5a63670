# shellcheck shell=sh
# The timer UNIT (swarm-ha-backup on a manager, swarm-ha-zk-backup on a ZooKeeper server) that
# takes backups on SCHEDULE (a systemd calendar expression), checked by systemd first.
# SERVICE_UNIT and TIMER_UNIT are the units' whole text, rendered and tested where Pulumi runs;
# written as given. REMOVE=yes takes the timer away (the backups stay in their folder).
: "${NODE:?}" "${HOST:?}" "${UNIT:?}" "${SCHEDULE:?}" "${SERVICE_UNIT:?}" "${TIMER_UNIT:?}" "${REMOVE:=no}"

case "$UNIT" in
  swarm-ha-backup | swarm-ha-zk-backup) ;;
  *) fail "no backup timer is named $UNIT" ;;
esac

units=/etc/systemd/system
if [ "$REMOVE" = yes ]; then
  systemctl disable --now "$UNIT.timer" >/dev/null 2>&1 || true
  rm -f "$units/$UNIT.timer" "$units/$UNIT.service"
  systemctl daemon-reload
  say "backups: no longer scheduled here"
  exit 0
fi
if ! checked=$(systemd-analyze calendar -- "$SCHEDULE" 2>&1); then
  fail "the backup schedule \"$SCHEDULE\" is not a systemd calendar expression (swarm-ha:backup.schedule; see systemd.time(7)): $(printf '%s\n' "$checked" | tail -n 1)"
fi
printf '%s\n' "$SERVICE_UNIT" >"$units/$UNIT.service.new"
printf '%s\n' "$TIMER_UNIT" >"$units/$UNIT.timer.new"
mv "$units/$UNIT.service.new" "$units/$UNIT.service"
mv "$units/$UNIT.timer.new" "$units/$UNIT.timer"
systemctl daemon-reload
systemctl enable "$UNIT.timer" >/dev/null 2>&1
systemctl restart "$UNIT.timer"
say "backups: scheduled ($SCHEDULE), next $(systemctl show -p NextElapseUSecRealtime --value "$UNIT.timer")"

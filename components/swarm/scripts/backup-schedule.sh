# shellcheck shell=sh
# On a manager: the timer that takes the swarm's backups on SCHEDULE (a systemd calendar
# expression), checked by systemd first. SERVICE_UNIT and TIMER_UNIT are the units' whole text,
# rendered and tested where Pulumi runs; written as given. REMOVE=yes takes the timer away (the
# backups stay in their folder).
: "${NODE:?}" "${HOST:?}" "${SCHEDULE:?}" "${SERVICE_UNIT:?}" "${TIMER_UNIT:?}" "${REMOVE:=no}"

units=/etc/systemd/system
if [ "$REMOVE" = yes ]; then
  systemctl disable --now swarm-ha-backup.timer >/dev/null 2>&1 || true
  rm -f "$units/swarm-ha-backup.timer" "$units/swarm-ha-backup.service"
  systemctl daemon-reload
  say "backups: no longer scheduled here"
  exit 0
fi
if ! checked=$(systemd-analyze calendar -- "$SCHEDULE" 2>&1); then
  fail "the backup schedule \"$SCHEDULE\" is not a systemd calendar expression (swarm-ha:backup.schedule; see systemd.time(7)): $(printf '%s\n' "$checked" | tail -n 1)"
fi
printf '%s\n' "$SERVICE_UNIT" >"$units/swarm-ha-backup.service.new"
printf '%s\n' "$TIMER_UNIT" >"$units/swarm-ha-backup.timer.new"
mv "$units/swarm-ha-backup.service.new" "$units/swarm-ha-backup.service"
mv "$units/swarm-ha-backup.timer.new" "$units/swarm-ha-backup.timer"
systemctl daemon-reload
systemctl enable swarm-ha-backup.timer >/dev/null 2>&1
systemctl restart swarm-ha-backup.timer
say "backups: scheduled ($SCHEDULE), next $(systemctl show -p NextElapseUSecRealtime --value swarm-ha-backup.timer)"

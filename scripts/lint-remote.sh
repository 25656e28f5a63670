#!/usr/bin/env bash
# Shellchecks the remote step scripts as they run on hosts: POSIX sh, with the shared helpers and
# the parameter assignments that renderScript puts in front of each. Each component's steps are in
# its scripts/ folder; the helpers every step gets (lib.sh) and the backups' (backups.sh) are the
# host layer's.
set -euo pipefail
cd "$(dirname "$0")/../components"
status=0
for script in */scripts/*.sh; do
  case "$script" in host/scripts/lib.sh | zookeeper/scripts/zk-health.sh | host/scripts/backups.sh) continue ;; esac
  libs=(host/scripts/lib.sh)
  case "$script" in zookeeper/scripts/*) libs+=(zookeeper/scripts/zk-health.sh) ;; esac
  # The backup steps get the backups' helpers too.
  case "$script" in */backup.sh | */zk-backup.sh) libs+=(host/scripts/backups.sh) ;; esac
  if ! { printf 'set -eu\nNODE=node HOST=host\n'; cat "${libs[@]}" "$script"; } | shellcheck -s sh -; then
    printf 'in components/%s (shown with %s in front)\n' "$script" "${libs[*]}" >&2
    status=1
  fi
done
exit $status

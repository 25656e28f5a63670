#!/usr/bin/env bash
# Shellchecks the remote step scripts as they run on hosts: POSIX sh, with the shared helpers and
# the parameter assignments that renderScript puts in front of each.
set -euo pipefail
cd "$(dirname "$0")/../components/scripts"
status=0
for script in *.sh; do
  case "$script" in lib.sh | zk-health.sh) continue ;; esac
  libs=(lib.sh)
  case "$script" in zk-*) libs+=(zk-health.sh) ;; esac
  if ! { printf 'set -eu\nNODE=node HOST=host\n'; cat "${libs[@]}" "$script"; } | shellcheck -s sh -; then
    printf 'in components/scripts/%s (shown with %s in front)\n' "$script" "${libs[*]}" >&2
    status=1
  fi
done
exit $status

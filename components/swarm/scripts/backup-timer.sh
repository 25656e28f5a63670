# shellcheck shell=sh
# What the backup timer's service runs (systemd gives the parameters as its environment): the
# shared helpers and the backups', then backup.sh, from the folder this script is in.
set -eu
here=$(dirname "$0")
# shellcheck source=/dev/null
. "$here/lib.sh"
# shellcheck source=/dev/null
. "$here/backups.sh"
# shellcheck source=/dev/null
. "$here/backup.sh"

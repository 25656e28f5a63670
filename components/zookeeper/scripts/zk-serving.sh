# shellcheck shell=sh
# The probe's survey, run from one server's host over SSH at every preview and up: every server's
# mode as `srvr` answers it here, one "id address mode" line each ("down": no answer).
ensemble_report "$SERVERS"

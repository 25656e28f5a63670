# shellcheck shell=sh
# Helpers shared by every remote step; rendered in front of each step's script.
say() { printf '%s\n' "$*"; }
fail() {
  printf 'swarm-ha: %s (%s): %s\n' "$NODE" "$HOST" "$*" >&2
  exit 1
}
# retry ATTEMPTS DELAY WHAT COMMAND...: runs COMMAND until it succeeds, at most ATTEMPTS times;
# fails naming WHAT and the last output seen.
retry() {
  _attempts=$1 _delay=$2 _what=$3
  shift 3
  _i=1
  while :; do
    if _last=$("$@" 2>&1); then
      printf '%s\n' "$_last"
      return 0
    fi
    if [ "$_i" -ge "$_attempts" ]; then
      fail "gave up waiting for $_what after $_attempts attempts, $_delay s apart; last: $_last"
    fi
    _i=$((_i + 1))
    sleep "$_delay"
  done
}
swarm_state() { docker info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null || echo unknown; }
# apt_install PACKAGE...: installs Debian/Ubuntu packages. This project's steps on a host take
# turns: a lock file (APT_LOCK, default /run/lock/swarm-ha-apt.lock, outside the scripts' folder
# that a removed node's steps take away) waited for at most APT_TURN_SECONDS (default 900). On a
# bare host the firewall and Docker steps run at once and both install, and with many hosts
# installing on a slow mirror Docker's install outlasts apt's own lock retries below. Another apt
# run (unattended-upgrades, cloud-init) holding apt's lock is waited for too (bounded). APT_HINT,
# if set, says what to do instead on a host without apt-get.
apt_install() {
  command -v apt-get >/dev/null 2>&1 ||
    fail "installing $* needs apt-get (Debian or Ubuntu)${APT_HINT:+; $APT_HINT}"
  command -v flock >/dev/null 2>&1 || {
    apt_install_now "$@"
    return
  }
  _lock=${APT_LOCK:-/run/lock/swarm-ha-apt.lock} _turn=${APT_TURN_SECONDS:-900}
  mkdir -p "$(dirname "$_lock")"
  (
    flock -w "$_turn" 9 ||
      fail "gave up installing $* after $_turn s waiting for another swarm-ha step's install on this host to finish ($_lock)"
    apt_install_now "$@"
  ) 9>"$_lock"
}
# The installs themselves, with the turn's lock (fd 9) closed for them: a daemon a package starts
# never holds it.
apt_install_now() {
  export DEBIAN_FRONTEND=noninteractive
  # A run killed during an install can leave packages unpacked but not configured: finish them.
  retry 30 5 "dpkg --configure -a" dpkg --configure -a >/dev/null 9>&-
  retry 30 5 "apt-get update" apt-get update -qq >/dev/null 9>&-
  retry 5 10 "apt-get install $*" apt-get install -y -qq --no-install-recommends "$@" >/dev/null 9>&-
}
# daemon_metrics ADDR: makes /etc/docker/daemon.json (DAEMON_JSON) say "metrics-addr": ADDR,
# keeping its other settings; prints "changed" when it had to change the file. jq writes the JSON,
# so ADDR stays a string whatever it holds.
daemon_metrics() {
  _file=${DAEMON_JSON:-/etc/docker/daemon.json}
  command -v jq >/dev/null 2>&1 || APT_HINT="or install jq" apt_install jq
  mkdir -p "$(dirname "$_file")"
  [ -s "$_file" ] || printf '{}\n' >"$_file"
  _now=$(jq -r '.["metrics-addr"] // empty' "$_file") ||
    fail "$_file is not valid JSON, so its metrics address cannot be set; fix or remove it"
  [ "$_now" != "$1" ] || return 0
  if ! jq --arg addr "$1" '.["metrics-addr"] = $addr' "$_file" >"$_file.new"; then
    fail "writing the metrics address into $_file failed"
  fi
  mv "$_file.new" "$_file"
  echo changed
}
# Lists are passed as lines: by_lines makes an unquoted expansion split at newlines only, with
# globbing off, so `for x in $LIST` sees each line whole, as written ('a b *' stays one value);
# by_words splits at spaces again (globbing stays off for the rest of the step).
NL='
'
by_lines() {
  set -f
  IFS=$NL
}
by_words() {
  IFS=' 	
'
}
# listening ADDR: whether a TCP socket listens on ADDR's port here (IPv4 or IPv6).
listening() {
  _hex=$(printf '%04X' "${1##*:}")
  awk -v p=":$_hex" '$4 == "0A" && substr($2, length($2) - 4) == p { found = 1 } END { exit !found }' \
    /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

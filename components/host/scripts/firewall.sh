# shellcheck shell=sh
# The host's firewall: nftables rules in a table of their own (inet swarm_ha), only for the
# cluster's ports, everything else as it was. Applied at once; if it changed anything, a rollback
# to the rules before is armed for CONFIRM_SECONDS, which firewall-confirm.sh (a new SSH
# connection) disarms. Prints "generation=HASH" of the rules.
# RESTRICTED: published ports only members and some networks reach, one "PROTO/PORT=NETWORKS" per
# word (NETWORKS comma-separated, or empty: members only), judged on the input path and on the
# forward path Docker's published ports take (by the connection's original destination port).
: "${NODE:?}" "${HOST:?}" "${MEMBERS:?}" "${SWARM_PORT:?}" "${DATA_PORT:?}" "${CONFIRM_SECONDS:?}"
: "${ENSEMBLE=}" "${CLIENTS=}" "${ZK_CLIENT_PORT=}" "${ZK_PEER_PORTS=}" "${RESTRICTED=}"
# RESTRICTED is split into words, never into file names.
set -f

FW_DIR=/etc/swarm-ha/firewall
ROLLBACK=swarm-ha-firewall-rollback

command -v nft >/dev/null 2>&1 || APT_HINT="or install nftables" apt_install nftables
mkdir -p "$FW_DIR"

# set NAME ADDRESSES [FLAGS]: a set of IPv4 addresses (or networks, with "flags interval").
set_of() {
  printf '  set %s {\n    type ipv4_addr\n' "$1"
  [ -z "${3-}" ] || printf '    flags %s\n' "$3"
  [ -z "$2" ] || printf '    elements = { %s }\n' "$(printf '%s' "$2" | tr ' ' '\n' | sed '/^$/d' | paste -sd, - | sed 's/,/, /g')"
  printf '  }\n'
}
# restricted_rules CHAIN: for each RESTRICTED port, a drop of what is neither a member's nor from
# its networks (set from_N), in the input chain by port, in the forward chain by the original
# destination port of a connection that Docker's NAT redirected (a published port), in its first
# direction only: replies, and connections of this host's containers to other hosts, pass.
restricted_rules() {
  _n=0
  for _entry in $RESTRICTED; do
    _proto=${_entry%%/*}
    _port=${_entry#*/}
    _port=${_port%%=*}
    if [ "$1" = input ]; then
      _match="$_proto dport $_port"
    else
      _match="ct status dnat ct direction original meta l4proto $_proto ct original proto-dst $_port"
    fi
    printf '    %s ip saddr != @members ip saddr != @from_%s counter drop\n' "$_match" "$_n"
    printf '    meta nfproto ipv6 %s counter drop\n' "$_match"
    _n=$((_n + 1))
  done
}
# Everything but the members (IPv6 too: members are IPv4) is dropped on the swarm's ports;
# loopback and the local containers' bridges are never filtered.
rules() {
  printf 'table inet swarm_ha\ndelete table inet swarm_ha\ntable inet swarm_ha {\n'
  set_of members "$MEMBERS"
  if [ -n "$ZK_CLIENT_PORT" ]; then
    set_of ensemble "$ENSEMBLE"
    set_of clients "$CLIENTS" interval
  fi
  _n=0
  for _entry in $RESTRICTED; do
    set_of "from_$_n" "$(printf '%s' "${_entry#*=}" | tr ',' ' ')" interval
    _n=$((_n + 1))
  done
  cat <<RULES
  chain input {
    type filter hook input priority filter - 1; policy accept;
    iif "lo" accept
    iifname { "docker0", "docker_gwbridge" } accept
    iifname "br-*" accept
    tcp dport { $SWARM_PORT, 7946 } ip saddr != @members counter drop
    udp dport { 7946, $DATA_PORT } ip saddr != @members counter drop
    meta nfproto ipv6 tcp dport { $SWARM_PORT, 7946 } counter drop
    meta nfproto ipv6 udp dport { 7946, $DATA_PORT } counter drop
RULES
  if [ -n "$ZK_CLIENT_PORT" ]; then
    cat <<RULES
    tcp dport { $ZK_PEER_PORTS } ip saddr != @ensemble ip saddr != @members counter drop
    tcp dport $ZK_CLIENT_PORT ip saddr != @members ip saddr != @clients counter drop
    meta nfproto ipv6 tcp dport { $ZK_PEER_PORTS, $ZK_CLIENT_PORT } counter drop
RULES
  fi
  restricted_rules input
  printf '  }\n'
  if [ -n "$RESTRICTED" ]; then
    cat <<RULES
  chain forward {
    type filter hook forward priority filter - 1; policy accept;
    iifname { "docker0", "docker_gwbridge" } accept
    iifname "br-*" accept
RULES
    restricted_rules forward
    printf '  }\n'
  fi
  printf '}\n'
}

rules >"$FW_DIR/pending.nft"
generation=$(sha256sum <"$FW_DIR/pending.nft" | cut -c1-12)
out=$(nft -c -f "$FW_DIR/pending.nft" 2>&1) || fail "nftables refused the rules in $FW_DIR/pending.nft: $out"
# arm: the rollback to previous.nft, due in CONFIRM_SECONDS (any earlier one dropped).
arm() {
  systemctl stop "$ROLLBACK.timer" >/dev/null 2>&1 || true
  systemctl reset-failed "$ROLLBACK.service" "$ROLLBACK.timer" >/dev/null 2>&1 || true
  # The folder is the rollback's argument, never part of its script's text.
  # shellcheck disable=SC2016
  systemd-run --quiet --unit "$ROLLBACK" --on-active "${CONFIRM_SECONDS}s" \
    --timer-property AccuracySec=1s \
    /bin/sh -c 'nft -f "$1/previous.nft"; rm -f "$1/applied"' rollback "$FW_DIR" ||
    fail "could not arm the rollback of the firewall rules (systemd-run)"
}
if [ "$(cat "$FW_DIR/applied" 2>/dev/null)" = "$generation" ] && nft list table inet swarm_ha >/dev/null 2>&1; then
  # In force. Still waiting for a confirmation (a run stopped before its own): this run's
  # confirmation gets a whole window.
  if systemctl is-active --quiet "$ROLLBACK.timer"; then arm; fi
  say "generation=$generation"
  exit 0
fi
# The rules before, to go back to: the table as it is, or none.
systemctl stop "$ROLLBACK.timer" >/dev/null 2>&1 || true
{
  printf 'table inet swarm_ha\ndelete table inet swarm_ha\n'
  nft list table inet swarm_ha 2>/dev/null || true
} >"$FW_DIR/previous.nft"
nft -f "$FW_DIR/pending.nft" || fail "nftables could not apply the rules ($FW_DIR/pending.nft)"
printf '%s\n' "$generation" >"$FW_DIR/applied"
arm
say "generation=$generation"

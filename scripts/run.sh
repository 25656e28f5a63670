#!/usr/bin/env bash
# Runs a command with this project's environment (scripts/env.sh): the Pulumi CLI and plugins
# it sets up, its state backend, and Node.js 24 when the machine's Node is older. The npm scripts
# that run Node or Pulumi go through it, so `npm run X` runs on the same Node as `npm test`.
set -euo pipefail
# shellcheck source=/dev/null
. "$(dirname "$0")/env.sh"
exec "$@"

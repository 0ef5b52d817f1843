#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs Docker and test tools, starts dockerd,
# installs the project, and runs every test (unit, differential, real-engine integration).
# Extra arguments go to pytest, e.g. `scripts/test.sh -k port001`.
set -euo pipefail
source "$(dirname "$0")/setup-env.sh"
install_system_packages
start_dockerd
prepare_venv
install_node_tools
cd "$ROOT"
export AUDITOR_REQUIRE_ENGINE=1
exec "$VENV/bin/python" -m pytest "$@"

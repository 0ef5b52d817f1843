#!/usr/bin/env bash
# The main job on a fresh machine: set up, start a few risky labelled containers on the local
# engine, scan them, write every report to demo-output/, and remove the containers again.
# Without a usable engine (no root to install or start one), the bundled example snapshot is
# scanned instead and the output says so.
set -euo pipefail
source "$(dirname "$0")/setup-env.sh"
install_system_packages "${DEMO_PACKAGES[@]}" || log "could not install system packages; continuing"
start_dockerd || log "no Docker engine could be started; the demo will scan the bundled example"
prepare_venv
cd "$ROOT"
exec "$VENV/bin/auditor" demo --out "${1:-demo-output}"

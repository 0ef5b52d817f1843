#!/usr/bin/env bash
# The long fuzzing run: N random inputs per parser (default 5000) through every fuzzer in
# tests/hardening/test_fuzz_parsers.py and test_fuzz_cli.py. The test command runs the same fuzzers briefly.
# Usage: scripts/fuzz.sh [N] [extra pytest args, e.g. -k compose]
set -euo pipefail
source "$(dirname "$0")/setup-env.sh"
prepare_venv
cd "$ROOT"
N="${1:-5000}"
shift || true
export AUDITOR_FUZZ_EXAMPLES="$N"
exec "$VENV/bin/python" -m pytest tests/hardening/test_fuzz_parsers.py tests/hardening/test_fuzz_cli.py -q -p no:cacheprovider -k "not corpus_through_cli" "$@"

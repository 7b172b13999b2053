#!/usr/bin/env bash
# Runs every fuzz target for FUZZ_SECONDS (default 300) each, one after the other, and fails when
# any of them finds something (a sanitizer report, a broken invariant, an uncaught Python
# exception, a timeout). `make fuzz` and `make fuzz-ci` call this after building build-fuzz/.
#
#   native/fuzz/run_fuzz.sh [target...]        FUZZ_SECONDS=15 for a short pass
#
# Corpora grow in build-fuzz/corpus/<target>/ (kept between runs), seeds come from
# native/fuzz/make_seeds.py (build-fuzz/seeds/<target>/), findings land in
# build-fuzz/findings/<target>/ (crash-*, timeout-*, oom-*: replay one with
# `build-fuzz/<target> <file>`), logs in build-fuzz/logs/<target>.log.
set -uo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BUILD="${FUZZ_BUILD_DIR:-$ROOT/build-fuzz}"
SECONDS_EACH="${FUZZ_SECONDS:-300}"
PYTHON="${PYTHON:-python3}"
targets=("$@")
if ((${#targets[@]} == 0)); then
  targets=(flatten_fuzzer chunk_fuzzer condition_fuzzer splitter_fuzzer protocol_fuzzer)
fi

declare -A max_len=([flatten_fuzzer]=4096 [chunk_fuzzer]=4096 [condition_fuzzer]=1024 [splitter_fuzzer]=4096
                    [protocol_fuzzer]=4096)
declare -A dict=([flatten_fuzzer]=json.dict [chunk_fuzzer]=chunk.dict [condition_fuzzer]=condition.dict
                 [splitter_fuzzer]=json.dict [protocol_fuzzer]=)

# atheris (the protocol target) lives in its own virtual environment, never in the system Python.
venv="$BUILD/venv"
if [[ " ${targets[*]} " == *" protocol_fuzzer "* ]] && ! "$venv/bin/python" -c "import atheris" 2>/dev/null; then
  echo "run_fuzz: installing atheris into $venv"
  "$PYTHON" -m venv "$venv" && "$venv/bin/pip" install --quiet "atheris>=3,<4" || {
    echo "run_fuzz: cannot install atheris for $("$PYTHON" --version 2>&1) (no wheel?)" >&2
    exit 1
  }
fi

# A small quarantine keeps the resident size flat over millions of runs (the default 256 MB
# quarantine let it pass 1 GB within minutes); use-after-free is still found.
export ASAN_OPTIONS="${ASAN_OPTIONS:-malloc_context_size=0:quarantine_size_mb=64:detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
failed=()
for target in "${targets[@]}"; do
  corpus="$BUILD/corpus/$target" findings="$BUILD/findings/$target" seeds="$BUILD/seeds/$target"
  mkdir -p "$corpus" "$findings" "$BUILD/logs"
  [ -d "$seeds" ] || { echo "run_fuzz: no seeds in $seeds (run native/fuzz/make_seeds.py)" >&2; exit 1; }
  flags=(-max_total_time="$SECONDS_EACH" -max_len="${max_len[$target]}" -timeout=10 -rss_limit_mb=2560
         -print_final_stats=1 -artifact_prefix="$findings/")
  [ -n "${dict[$target]}" ] && flags+=(-dict="$ROOT/native/fuzz/${dict[$target]}")
  if [ "$target" = protocol_fuzzer ]; then
    command=("$venv/bin/python" "$ROOT/native/fuzz/protocol_fuzzer.py")
  else
    command=("$BUILD/$target")
  fi
  log="$BUILD/logs/$target.log"
  "${command[@]}" "${flags[@]}" "$corpus" "$seeds" >"$log" 2>&1
  status=$?
  runs=$(grep -ao 'stat::number_of_executed_units: [0-9]*' "$log" | tail -1 | awk '{print $2}')
  if [ -z "$runs" ]; then  # atheris prints no final stats: take the last status line
    runs=$(grep -aoE '^#[0-9]+' "$log" | tail -1 | tr -d '#')
  fi
  if ((status == 0)); then
    printf 'run_fuzz: %-17s ok      %10s executions in %ss\n' "$target" "${runs:-?}" "$SECONDS_EACH"
  else
    printf 'run_fuzz: %-17s FAILED  after %s executions (exit %d); see %s and %s\n' "$target" "${runs:-?}" "$status" \
      "$log" "$findings"
    grep -aE 'FUZZ_CHECK|ERROR:|SUMMARY|Uncaught Python exception|Error:' "$log" | head -5 | sed 's/^/    /'
    failed+=("$target")
  fi
done
if ((${#failed[@]})); then
  echo "run_fuzz: findings in: ${failed[*]}" >&2
  exit 1
fi

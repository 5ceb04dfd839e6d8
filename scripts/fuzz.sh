#!/usr/bin/env bash
# scripts/fuzz.sh BUILD smoke|run [SECONDS]: the libFuzzer harnesses of tests/fuzz, built in BUILD
# (cmake -DCMAKE_C_COMPILER=clang -DATTN_FUZZ=ON; `make fuzz` and `make test` do it).
#   smoke    runs every target once over each file of its committed corpus (part of make test)
#   run N    fuzzes every target for N seconds (default 60), starting from a copy of its corpus;
#            new inputs stay in BUILD/fuzz-corpus/<name> (the committed corpus is not touched) and
#            a crash is written to BUILD/fuzz-crashes/<name>/ and fails the run.
set -u
build=${1:?usage: scripts/fuzz.sh BUILD smoke|run [SECONDS]}
mode=${2:?usage: scripts/fuzz.sh BUILD smoke|run [SECONDS]}
seconds=${3:-60}
src=$(cd "$(dirname "$0")/.." && pwd)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=suppressions=$src/tests/lsan.supp:print_suppressions=0
export ATTN_NUM_THREADS=1
status=0
for corpus in "$src"/tests/fuzz/corpus/*/; do
    name=$(basename "$corpus")
    bin=$build/tests/fuzz/fuzz_$name
    if [[ ! -x $bin ]]; then
        echo "fuzz: $bin is missing (build the fuzz_targets target)" >&2
        status=1
        continue
    fi
    if [[ $mode == smoke ]]; then
        if "$bin" -rss_limit_mb=2048 "$corpus"* >"$build/fuzz_$name.log" 2>&1; then
            echo "fuzz smoke: $name ok ($(ls "$corpus" | wc -l) inputs)"
        else
            echo "fuzz smoke: $name FAILED (see $build/fuzz_$name.log)" >&2
            tail -n 30 "$build/fuzz_$name.log" >&2
            status=1
        fi
    else
        work=$build/fuzz-corpus/$name crashes=$build/fuzz-crashes/$name
        mkdir -p "$work" "$crashes"
        cp -n "$corpus"* "$work"/ 2>/dev/null
        echo "fuzz: $name for ${seconds}s"
        "$bin" -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=65536 \
            -artifact_prefix="$crashes/" "$work" >"$build/fuzz_$name.log" 2>&1 || {
            echo "fuzz: $name FAILED: $(ls "$crashes")" >&2
            tail -n 30 "$build/fuzz_$name.log" >&2
            status=1
        }
        grep -E '^#[0-9]+.*DONE|^Done' "$build/fuzz_$name.log" | tail -n 1
    fi
done
exit $status

#!/bin/sh
# cardlink — the whole test suite, from a fresh Debian 12 machine (as root) to
# a verdict:  sh tests/run.sh
#
#  1. gcc, -Werror, AddressSanitizer + UndefinedBehaviorSanitizer: every Check
#     suite, integration test and fuzz-corpus replay under `meson test`;
#  2. clang, -Werror: the whole tree again, plus the libFuzzer targets, and
#     the unit suites once more without sanitizers (optimised code as it
#     ships: what the sanitizers' instrumentation could hide);
#  3. arm-none-eabi-gcc for Cortex-M0+ and Cortex-M4, freestanding, -Os:
#     the core's size per module and a check that it calls no libc;
#  4. benchmarks under callgrind (instruction counts, not times);
#  5. every libFuzzer target for FUZZ_SECONDS (default 15) over its corpus.
# Environment: FUZZ_SECONDS, SKIP_FUZZ=1, SKIP_CROSS=1, JOBS.
set -eu
cd "$(dirname "$0")/.."
. tests/scripts/deps.sh

cl_need meson ninja-build pkg-config gcc libc6-dev clang libclang-rt-14-dev check \
    libmbedtls-dev libserialport-dev gcc-arm-none-eabi libnewlib-arm-none-eabi \
    binutils-arm-none-eabi valgrind pcsc-tools python3 openssl \
    pcscd libpcsclite-dev vsmartcard-vpcd opensc python3-pyscard libssl-dev tshark \
    libsqlite3-dev sqlite3 tmux minimodem

FUZZ_SECONDS=${FUZZ_SECONDS:-15}
JOBS=${JOBS:-$(nproc)}
B=build
status=0
T0=$(date +%s)
step() { printf '\n==== %s (at %ss)\n' "$*" $(($(date +%s) - T0)); }

step "1/5 gcc + ASan + UBSan: build and meson test"
cl_setup $B/test -Db_sanitize=address,undefined -Db_lundef=false -Dtests=enabled
ninja -C $B/test
if ! meson test -C $B/test --print-errorlogs --num-processes "$JOBS"; then
    status=1
fi

step "2/5 clang: build everything, libFuzzer targets included; unit suites unsanitised"
CC=clang cl_setup $B/clang -Dtests=enabled -Dfuzz=enabled
ninja -C $B/clang
if ! meson test -C $B/clang --suite unit --print-errorlogs --num-processes "$JOBS" \
        >$B/clang-unit.log 2>&1; then
    tail -40 $B/clang-unit.log
    status=1
fi
grep -E '^(Ok|Fail|Timeout):' $B/clang-unit.log | tr -s ' ' | paste -sd' ' | sed 's/^/clang unit suites: /'

if [ "${SKIP_CROSS:-0}" != 1 ]; then
    step "3/5 Cortex-M0+ and Cortex-M4 (arm-none-eabi-gcc -Os, freestanding)"
    for cpu in cortex-m0plus cortex-m4; do
        cl_setup $B/$cpu --cross-file ports/baremetal/$cpu.ini \
            -Dtests=disabled -Dexamples=false -Dfuzz=disabled
        ninja -C $B/$cpu
        sh tests/scripts/size-report.sh $B/$cpu arm-none-eabi- || status=1
    done
    python3 tests/scripts/engine-size.py $B/cortex-m0plus arm-none-eabi- || status=1
    python3 tests/scripts/firmware-size.py $B/cortex-m0plus || status=1
fi

step "4/5 benchmarks (callgrind instruction counts, clang -O2 build)"
for b in $B/clang/tests/bench/bench_*; do
    [ -f "$b" ] && [ -x "$b" ] || continue
    "$b" --callgrind || status=1
done

if [ "${SKIP_FUZZ:-0}" != 1 ]; then
    step "5/5 libFuzzer: ${FUZZ_SECONDS}s per target"
    for f in $B/clang/fuzz/fuzz_*; do
        [ -f "$f" ] && [ -x "$f" ] || continue   # skip meson's *.p object dirs
        name=${f##*/fuzz_}
        work=$B/fuzz-work/$name
        mkdir -p "$work" $B/fuzz-artifacts
        if ! "$f" -max_total_time="$FUZZ_SECONDS" -print_final_stats=1 \
                -artifact_prefix=$B/fuzz-artifacts/"$name"- \
                "$work" fuzz/corpus/"$name" >$B/fuzz-work/"$name".log 2>&1; then
            echo "fuzz_$name: FAILED (see $B/fuzz-work/$name.log; input in $B/fuzz-artifacts)"
            tail -30 $B/fuzz-work/"$name".log
            status=1
            continue
        fi
        execs=$(awk '/stat::number_of_executed_units/ { print $2 }' $B/fuzz-work/"$name".log)
        cov=$(grep -o 'cov: [0-9]*' $B/fuzz-work/"$name".log | tail -1)
        printf 'fuzz_%-14s %10s executions in %ss, %s\n' "$name" "$execs" "$FUZZ_SECONDS" "$cov"
    done
fi

step "summary"
# Check prints "NN%: Checks: N, Failures: F, Errors: E" per suite; other
# tests (corpus replays, integration scripts) count as one check each.
python3 tests/scripts/summary.py $B/test/meson-logs/testlog.json || status=1
exit $status

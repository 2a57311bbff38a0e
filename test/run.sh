#!/usr/bin/env bash
# The test command: installs what is missing, builds, runs every Boost.Test suite through b2,
# and ends with one line "N passed, M failed" (test cases, summed over all test modules).
# Usage: test/run.sh
set -u
cd "$(dirname "$0")/.."
. tools/deps.sh
ensure_packages "${BUILD_PACKAGES[@]}" python3 || { echo "could not install packages"; echo "0 passed, 1 failed"; exit 1; }

jobs=$(nproc 2>/dev/null || echo 2)
echo "== build"
if ! b2 -j"$jobs" -d0 >build.log 2>&1; then
    tail -40 build.log
    echo "0 passed, 1 failed"
    exit 1
fi

# b2 reruns a test only when its marker is missing: drop old results so every run is real.
find test/bin \( -name '*.test' -o -name '*.output' -o -name '*.run' \) -delete 2>/dev/null
echo "== b2 test"
export BOOST_TEST_REPORT_LEVEL=short
export BOOST_TEST_LOG_LEVEL=test_suite
b2 -j"$jobs" test >test.log 2>&1
grep -E '^\*\*passed\*\*|\.\.\.failed|error:' test.log | sed 's/^/  /'

passed=0; failed=0
for src in test/test_*.cpp; do
    mod=$(basename "$src" .cpp)
    out=$(find test/bin -name "$mod.output" | head -1)
    if [ -z "$out" ]; then
        echo "  $mod: no result (did not build or did not run)"
        failed=$((failed + 1)); continue
    fi
    p=$(grep -oE '[0-9]+ test cases? out of [0-9]+ passed' "$out" | head -1 | awk '{print $1}')
    f=$(grep -oE '[0-9]+ test cases? out of [0-9]+ (failed|aborted)' "$out" | awk '{s+=$1} END {print s+0}')
    if [ -z "$p" ] && grep -q 'No errors detected' "$out"; then p=1; fi
    if [ -z "$p" ] && [ "$f" -eq 0 ]; then
        echo "  $mod: crashed or printed no report:"; tail -20 "$out" | sed 's/^/    /'
        f=1; p=0
    fi
    # A module that reported success but then crashed (e.g. at exit) still failed.
    if [ "$f" -eq 0 ] && ! grep -q 'EXIT STATUS: 0' "$out"; then
        echo "  $mod: non-zero exit after its report:"; tail -5 "$out" | sed 's/^/    /'
        f=1
    fi
    [ "$f" -gt 0 ] && { echo "  $mod: failures:"; grep -E 'error|fail' "$out" | head -20 | sed 's/^/    /'; }
    echo "  $mod: ${p:-0} passed, $f failed"
    passed=$((passed + ${p:-0})); failed=$((failed + f))
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

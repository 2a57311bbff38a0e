#!/usr/bin/env bash
# The test command: installs what is missing, builds, and runs every Boost.Test suite through
# b2 in three builds - release, AddressSanitizer+UndefinedBehaviorSanitizer, ThreadSanitizer -
# and a short libFuzzer run of the protocol parser (beside the next pass's tests, reported at
# the end); the release pass ends with the multi-host test (test/netns_test.sh: nodes in
# network namespaces, as root). To fit CI's 15 minutes the sanitizer builds leave some modules
# out (single_threaded, fuzzed, script_only below: each says why). The last line is
# "N passed, M failed" (test cases summed over all modules and builds; the fuzz run and the
# multi-host test count as one case each, and a skipped multi-host test counts nothing; the
# layering checks, three cases, run first).
#
# Usage: test/run.sh                 everything (CI)
#        P2P_TEST_PASSES="release" test/run.sh     a subset of: release asan tsan fuzz
#        P2P_FUZZ_SECONDS=300 ...    a longer fuzz run (default 20)
set -u
cd "$(dirname "$0")/.."
. tools/deps.sh
passes=${P2P_TEST_PASSES:-"asan tsan fuzz release"}
packages=("${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}" python3)
case " $passes " in *" fuzz "*) packages+=(clang libclang-rt-14-dev) ;; esac
ensure_packages "${packages[@]}" || { echo "could not install packages"; echo "0 passed, 1 failed"; exit 1; }

jobs=$(nproc 2>/dev/null || echo 2)
# The test phase compiles the suites and runs them as each is built; the runs mostly wait on
# sockets and timers, so two jobs more than the cores keep the CPUs busy (the time bounds of
# the tests hold on a loaded machine).
test_jobs=$((jobs + 2))
total_passed=0
total_failed=0
# Modules a pass leaves out (run_pass sets it): no result from them is expected.
skip_modules=""
is_skipped() { case " $(echo $skip_modules) " in *" $1 "*) return 0 ;; esac; return 1; }
# The modules whose code under test starts no thread: TSan has nothing to find there, and
# compiling them for it cost CI a minute. A module that starts threads must not be listed.
single_threaded="test_command_table test_verdict test_node_log test_progress_bar test_protocol test_line_reader test_file_index test_handler test_known_peers
    test_overlay_protocol test_peer_id test_scan_targets test_trace test_identity test_reputation
    test_chunk_picker test_swarm_protocol test_manifest"
# The modules whose code under test is the fuzz target's (fuzz/Jamfile: the parsers, built
# with ASan and UBSan and run on some 100,000 inputs): the ASan build leaves them to it.
fuzzed="test_protocol test_line_reader test_overlay_protocol test_peer_id test_swarm_protocol
    test_manifest"
# run_nodes.sh itself (its options, folders and cleanup): the release build tests it; the
# node's paths it drives are the overlay tests'.
script_only="test_run_nodes"

# Sums the Boost.Test reports of every module of the last b2 run.
count_results() {
    local label=$1 src mod out p f
    for src in test/*/test_*.cpp; do
        mod=$(basename "$src" .cpp)
        is_skipped "$mod" && continue
        out=$(find test/bin -name "$mod.output" 2>/dev/null | head -1)
        if [ -z "$out" ]; then
            echo "  [$label] $mod: no result (did not build or did not run)"
            total_failed=$((total_failed + 1)); continue
        fi
        # -a: a module's output may hold raw bytes (a test printing a peer's answer).
        p=$(grep -aoE '[0-9]+ test cases? out of [0-9]+ passed' "$out" | head -1 | awk '{print $1}')
        f=$(grep -aoE '[0-9]+ test cases? out of [0-9]+ (failed|aborted)' "$out" | awk '{s+=$1} END {print s+0}')
        p=${p:-0}
        if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
            echo "  [$label] $mod: crashed or printed no report:"; tail -20 "$out" | sed 's/^/    /'
            f=1
        elif [ "$f" -eq 0 ] && ! grep -q 'EXIT STATUS: 0' "$out"; then
            # Reported success, then failed: a crash at exit, a leak or a sanitizer report.
            echo "  [$label] $mod: non-zero exit after its report:"; grep -E 'Sanitizer|SUMMARY|EXIT STATUS' "$out" | head -10 | sed 's/^/    /'
            f=1
        fi
        if [ "$f" -gt 0 ]; then
            grep -E 'error: in|Sanitizer|SUMMARY' "$out" | head -20 | sed 's/^/    /'
        fi
        echo "  [$label] $mod: $p passed, $f failed"
        total_passed=$((total_passed + p)); total_failed=$((total_failed + f))
    done
}

# The b2 properties of a pass's build.
pass_props() {
    case $1 in
    asan) echo "variant=debug address-sanitizer=norecover undefined-sanitizer=norecover" ;;
    tsan) echo "variant=debug thread-sanitizer=norecover" ;;
    esac
}

# Builds the node's library of the next pass (next_label) while this pass's tests run: they
# mostly wait on sockets and timers, and `nice` gives the build only the CPU they leave. Its
# files are the next variant's own; the next run_pass waits for it before building.
prebuild_pid=""
next_label=""
start_prebuild() {
    [ -n "$next_label" ] || return 0
    nice -n 10 b2 -j"$jobs" -d0 $(pass_props "$next_label") p2p_core >"build-pre-$next_label.log" 2>&1 &
    prebuild_pid=$!
}

# run_pass LABEL B2-PROPERTIES...: build, run every suite, count.
run_pass() {
    local label=$1; shift
    if [ -n "$prebuild_pid" ]; then
        wait "$prebuild_pid"  # its errors, if any, show again in this build
        prebuild_pid=""
    fi
    echo "== $label: b2 $*"
    # b2 reruns a test only when its result is missing, and installs stage/p2p-node only when it
    # looks older than the build: drop both so every run is real and tests the right binary.
    find test/bin \( -name '*.test' -o -name '*.output' -o -name '*.run' \) -delete 2>/dev/null
    rm -f stage/p2p-node
    local t0=$SECONDS
    if ! b2 -j"$jobs" -d0 "$@" >"build-$label.log" 2>&1; then
        grep -E 'error|failed' "build-$label.log" | head -20
        echo "  [$label] build failed"
        total_failed=$((total_failed + 1)); return
    fi
    last_staged=$label
    local t1=$SECONDS targets=(test) src mod
    start_prebuild
    # The fuzz run waits for a build to finish (both would compete for the cores), then runs
    # beside the tests, which mostly wait on sockets and timers.
    if [ -n "$fuzz_wanted" ]; then
        fuzz_job >fuzz.report 2>&1 &
        fuzz_pid=$!
        fuzz_wanted=""
    fi
    if [ -n "$skip_modules" ]; then
        targets=()
        for src in test/*/test_*.cpp; do
            mod=$(basename "$src" .cpp)
            is_skipped "$mod" || targets+=("test//$mod")
        done
    fi
    b2 -j"$test_jobs" "$@" "${targets[@]}" >"test-$label.log" 2>&1
    echo "  [$label] built in $((t1 - t0)) s, tests ran in $((SECONDS - t1)) s"
    count_results "$label"
}

# The multi-host test on the staged release binary: one case; a skip (not root, namespaces not
# permitted) prints why and counts nothing.
run_netns() {
    echo "== netns: test/netns_test.sh"
    if [ ! -x stage/p2p-node ]; then
        echo "  [netns] not run: no stage/p2p-node"; return
    fi
    test/netns_test.sh stage/p2p-node >test-netns.log 2>&1
    case $? in
    0)  sed -e 's/^netns: //' -e 's/^/  [netns] /' test-netns.log
        total_passed=$((total_passed + 1)) ;;
    77) echo "  [netns] $(tail -1 test-netns.log)" ;;
    *)  echo "  [netns] failed:"; sed 's/^/    /' test-netns.log
        total_failed=$((total_failed + 1)) ;;
    esac
}

export BOOST_TEST_REPORT_LEVEL=short
export BOOST_TEST_LOG_LEVEL=test_suite
export BOOST_TEST_COLOR_OUTPUT=no
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
# test/tsan.supp: races inside OpenDHT's own (uninstrumented) threads only; the file says which.
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/test/tsan.supp

# The fuzz run: builds the libFuzzer target with clang and runs it; its report is its output,
# and its exit status says whether it passed.
fuzz_job() {
    local secs=${P2P_FUZZ_SECONDS:-20} corpus rc=0
    echo "== fuzz: protocol parser, ${secs}s"
    corpus=$(mktemp -d)
    cp fuzz/seeds/* "$corpus"/
    # Niced: it runs beside a pass's tests and must not slow them.
    if nice -n 10 b2 -d0 toolset=clang fuzz >build-fuzz.log 2>&1 &&
       nice -n 10 stage/fuzz_protocol -max_total_time="$secs" -max_len=4096 -artifact_prefix="$corpus/" \
           "$corpus" >fuzz.log 2>&1; then
        echo "  [fuzz] $(grep -E '^Done' fuzz.log)"
    else
        echo "  [fuzz] failed:"; grep -E 'ERROR|SUMMARY|error' build-fuzz.log fuzz.log | head -10 | sed 's/^/    /'
        ls "$corpus"/crash-* 2>/dev/null | sed 's/^/    crash input: /'
        rc=1
    fi
    rm -rf "$corpus"
    return $rc
}
fuzz_pid="" fuzz_wanted="" last_staged=""

# The folders' layering (tools/layers.py): the lab's folder includes no extension's, and no
# file includes upward; then the checker itself, on a small tree with one of each fault. Three
# cases, before any build.
run_layers() {
    echo "== layers: tools/layers.py"
    local check out fake rc
    for check in --lab ""; do
        if out=$(python3 tools/layers.py $check 2>&1); then
            echo "  [layers] $(echo "$out" | tail -1)"; total_passed=$((total_passed + 1))
        else
            echo "  [layers] failed:"; echo "$out" | sed 's/^/    /'; total_failed=$((total_failed + 1))
        fi
    done
    fake=$(mktemp -d)
    mkdir -p "$fake/src/lab" "$fake/src/net" "$fake/include/p2p/overlay"
    echo '#include "p2p/overlay/overlay.hpp"' >"$fake/src/lab/session.cpp"
    echo '#include "p2p/lab/protocol.hpp"' >"$fake/src/net/socket.cpp"
    printf '#include <p2p/overlay/overlay.hpp>\n#include "../overlay/link.hpp"\n#include "p2p/swarm.hpp"\n' >"$fake/src/lab/listener.cpp"
    python3 tools/layers.py --root "$fake" --lab >"$fake/lab.out" 2>&1; rc=$?
    python3 tools/layers.py --root "$fake" >"$fake/all.out" 2>&1
    if [ $rc -eq 1 ] && grep -q 'src/lab/session.cpp: the lab' "$fake/lab.out" &&
       grep -q 'src/lab/listener.cpp: the lab.s node includes p2p/overlay/' "$fake/lab.out" &&
       grep -q 'src/lab/listener.cpp: includes "../overlay/link.hpp"' "$fake/lab.out" &&
       grep -q 'src/lab/listener.cpp: includes "p2p/swarm.hpp"' "$fake/lab.out" &&
       grep -q 'src/net/socket.cpp: includes p2p/lab/ (upward' "$fake/all.out"; then
        echo "  [layers] the checker finds a lab include of an extension and an upward include"
        total_passed=$((total_passed + 1))
    else
        echo "  [layers] the checker missed a planted fault:"; cat "$fake/lab.out" "$fake/all.out" | sed 's/^/    /'
        total_failed=$((total_failed + 1))
    fi
    rm -rf "$fake"
}
run_layers

for pass in $passes; do
    # The next pass that builds the node, if any: its library is built beside this pass's tests.
    next_label="" seen=""
    for p in $passes; do
        case $p in asan|tsan|release) [ -n "$seen" ] && [ -z "$next_label" ] && next_label=$p ;; esac
        [ "$p" = "$pass" ] && seen=1
    done
    case $pass in
    release) run_pass release; run_netns ;;
    # The sanitizer builds skip the cases labelled "slow" (multi-node overlay scenarios that
    # mostly wait on gossip timers; the release pass runs them): CI stays under 15 minutes.
    asan)    skip_modules="$fuzzed $script_only" BOOST_TEST_RUN_FILTERS='!@slow' run_pass asan $(pass_props asan) ;;
    tsan)    skip_modules="$single_threaded $script_only" BOOST_TEST_RUN_FILTERS='!@slow' run_pass tsan $(pass_props tsan) ;;
    # Started by the next pass once its build is done (run_pass), or at the end; reported last.
    fuzz)    fuzz_wanted=1 ;;
    *) echo "unknown pass '$pass' (use: release asan tsan fuzz)"; total_failed=$((total_failed + 1)) ;;
    esac
done

[ -z "$prebuild_pid" ] || wait "$prebuild_pid"
if [ -n "$fuzz_wanted" ]; then  # no pass came after it
    fuzz_job >fuzz.report 2>&1 & fuzz_pid=$!
fi
if [ -n "$fuzz_pid" ]; then
    if wait "$fuzz_pid"; then total_passed=$((total_passed + 1)); else total_failed=$((total_failed + 1)); fi
    cat fuzz.report
fi

# Each pass stages its own p2p-node. A sanitized one left there would look newer than the
# release build to b2, and ./run_nodes.sh or a benchmark would run it: remove it, so their
# b2 stages the release one.
[ "$last_staged" = release ] || rm -f stage/p2p-node

echo "$total_passed passed, $total_failed failed"
[ "$total_failed" -eq 0 ]

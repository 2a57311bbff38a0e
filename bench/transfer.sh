#!/usr/bin/env bash
# The transfer benchmark of docs/benchmarks.md: in one run on this machine, the same file is
# copied by `cp`, sent through `socat`, downloaded between two lab Python peers and between two
# of our nodes (TLS, as always between them; and across: lab <-> node, plain), each RUNS times,
# interleaved; then SRCH latency with 100 concurrent peers and TLS handshakes per second
# (bench/tls_handshake.py). `relay` adds node -> node through bench/hello_relay.py twice: once
# removing tls/1 from the HELLOs (plain bytes, sendfile) and once unchanged (TLS through the
# same hop). Prints the median table (bench/summarize.py) and the raw figures.
#
# Usage: bench/transfer.sh [--size SIZE] [--runs N] [--methods LIST] [--clients N]
#                          [--search-seconds S] [--handshakes N] [--drop-caches] [--out FILE]
#   --size SIZE        file size: bytes, or with K/M/G (binary) suffix; default 512M (or $SIZE)
#   --runs N           timed runs per method; the table shows the median; default 3 (or $RUNS)
#   --methods LIST     comma list of: cp socat lab node relay cross search handshake; default all
#                      (lab: lab -> lab; node: node -> node, TLS; relay: node -> node through
#                      the relay, plain and TLS; cross: lab -> node and node -> lab, plain;
#                      search: SRCH load; handshake: connections/s up to TLS and plain,
#                      bench/tls_handshake.py)
#   --clients N        concurrent peers for the search load; default 100
#   --search-seconds S length of each search run; default 5
#   --handshakes N     connections per handshake phase; default 1000
#   --drop-caches      before every timed run: sync; echo 3 > /proc/sys/vm/drop_caches (root
#                      only); otherwise the source stays in the page cache (written once, warm)
#   --out FILE         also write the report (environment + tables + raw figures) to FILE
# Every process it starts is ended and its temporary folder deleted, also on Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

SIZE_ARG=${SIZE:-512M} RUNS=${RUNS:-3} METHODS=cp,socat,lab,node,relay,cross,search,handshake CLIENTS=100 SEARCH_SECONDS=5 HANDSHAKES=1000
DROP=0 OUT=""
usage() { sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
while [ $# -gt 0 ]; do
    case "$1" in
        --size) SIZE_ARG=$2; shift 2 ;;
        --runs) RUNS=$2; shift 2 ;;
        --methods) METHODS=$2; shift 2 ;;
        --clients) CLIENTS=$2; shift 2 ;;
        --search-seconds) SEARCH_SECONDS=$2; shift 2 ;;
        --handshakes) HANDSHAKES=$2; shift 2 ;;
        --drop-caches) DROP=1; shift ;;
        --out) OUT=$2; shift 2 ;;
        -h|--help) usage 0 ;;
        *) echo "unknown option: $1" >&2; usage 2 >&2 ;;
    esac
done
want() { [[ ",$METHODS," == *",$1,"* ]]; }
[[ "$SIZE_ARG" =~ ^[0-9]+[kKmMgG]?$ ]] || { echo "invalid size '$SIZE_ARG': e.g. 512M, 2G, 1000000" >&2; exit 2; }
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || { echo "invalid runs '$RUNS': a positive number" >&2; exit 2; }
[[ "$HANDSHAKES" =~ ^[1-9][0-9]*$ ]] && [ "$HANDSHAKES" -ge 4 ] || { echo "invalid handshakes '$HANDSHAKES': 4 or more" >&2; exit 2; }
case "$SIZE_ARG" in
    *[kK]) BYTES=$(( 10#${SIZE_ARG%?} * 1024 )) ;;
    *[mM]) BYTES=$(( 10#${SIZE_ARG%?} * 1024 * 1024 )) ;;
    *[gG]) BYTES=$(( 10#${SIZE_ARG%?} * 1024 * 1024 * 1024 )) ;;
    *) BYTES=$(( 10#$SIZE_ARG )) ;;
esac
[ "$BYTES" -gt 0 ] || { echo "the size must be positive" >&2; exit 2; }
if [ "$DROP" = 1 ] && [ "$(id -u)" -ne 0 ]; then echo "--drop-caches needs root" >&2; exit 2; fi

# ---- what it needs: the build tools (tools/deps.sh), socat, python3, GNU time ----
. tools/deps.sh
ensure_packages "${BUILD_PACKAGES[@]}" socat python3 time iproute2 || { echo "could not install packages" >&2; exit 1; }
echo "== build" >&2
b2 -j"$(nproc)" -d0 >/dev/null || { echo "build failed: run b2 to see why" >&2; exit 1; }
NODE=$ROOT/stage/p2p-node
PY=$(command -v python3)

# ---- the temporary folder and everything started: cleaned up on every exit ----
TMP=$(mktemp -d "${TMPDIR:-/tmp}/p2p-bench.XXXXXX")
PIDS=()  # started in the background and not yet waited for
forget() { local p keep=(); for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done; PIDS=("${keep[@]}"); }
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Runs "$@" bounded by STEP_LIMIT seconds, in the background so Ctrl-C is handled at once;
# `timeout` puts the command in its own process group and ends the whole group.
STEP_LIMIT=$(( 120 + BYTES / 1048576 ))
bounded() {
    timeout -k 5 "$STEP_LIMIT" "$@" &
    local pid=$!
    PIDS+=("$pid")
    local rc=0
    wait "$pid" || rc=$?
    forget "$pid"
    return "$rc"
}

free_port() {  # a port nothing is bound to on 127.0.0.1 (bind test)
    "$PY" -c 'import sys; sys.path.insert(0, sys.argv[1]); import peer_transfer as p; print(p.free_port())' "$ROOT/bench"
}
listening() { [ -n "$(ss -Htln "sport = :$1" 2>/dev/null)" ]; }
before_run() {  # the same page-cache state before every timed run
    sync
    if [ "$DROP" = 1 ]; then echo 3 > /proc/sys/vm/drop_caches; fi
}
now() { echo "$EPOCHREALTIME"; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.6f", b - a }'; }

# ---- disk space: the source and one copy at a time ----
need=$(( 2 * BYTES + 256 * 1048576 ))
avail=$(df --output=avail -B1 "$TMP" | tail -1 | tr -d ' ')
if [ "$avail" -lt "$need" ]; then
    echo "not enough space in $TMP: $((avail / 1048576)) MiB free, $((need / 1048576)) MiB needed" >&2
    exit 1
fi

# ---- memory: a lab Python peer holds the whole file, twice (read + framed message) ----
if want lab || want cross; then
    if [ "$BYTES" -ge $(( 4 * 1024 * 1024 * 1024 )) ]; then
        echo "the lab protocol carries less than 4 GiB: leave lab and cross out of --methods" >&2; exit 2
    fi
    mem=$(awk '/MemAvailable/ {print $2 * 1024}' /proc/meminfo)
    if [ "$mem" -lt $(( 5 * BYTES + 512 * 1048576 )) ]; then
        echo "lab peers need about 5 x SIZE of memory ($((mem / 1048576)) MiB available):" \
             "use a smaller --size or leave lab and cross out of --methods" >&2; exit 1
    fi
fi

# ---- the environment, for the report ----
REPORT=$TMP/report.txt
{
    echo "date:    $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    echo "command: bench/transfer.sh --size $SIZE_ARG --runs $RUNS --methods $METHODS --clients $CLIENTS --search-seconds $SEARCH_SECONDS --handshakes $HANDSHAKES$([ "$DROP" = 1 ] && echo ' --drop-caches')"
    echo "commit:  $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet 2>/dev/null || echo ' (with local changes)')"
    echo "cpu:     $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
    echo "memory:  $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
    echo "kernel:  $(uname -sr)"
    echo "disk:    $(df -h --output=source,fstype,size,avail "$TMP" | tail -1 | tr -s ' ') (temp folder $TMP)"
    echo "file:    $BYTES bytes ($SIZE_ARG), random bytes"
    if [ "$DROP" = 1 ]; then echo "cache:   cold: sync; echo 3 > /proc/sys/vm/drop_caches before every timed run"
    else echo "cache:   warm: the source is written once and stays in the page cache; sync before every timed run"; fi
    echo "load:    $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min) at start"
} > "$REPORT"
cat "$REPORT" >&2

# ---- the source: written once; hard links put it in the senders' shared folders ----
mkdir -p "$TMP/src" "$TMP/dst" "$TMP/send" "$TMP/recv"
FILE=bench.bin
echo "== writing $BYTES bytes" >&2
head -c "$BYTES" /dev/urandom > "$TMP/src/$FILE"
ln "$TMP/src/$FILE" "$TMP/send/$FILE"
RESULTS=$TMP/results.tsv SEARCH=$TMP/search.jsonl
: > "$RESULTS"; : > "$SEARCH"
record() { printf '%s\t%s\t%s\t%s\t%s\n' "$@" >> "$RESULTS"; echo "   $1: $3 s, RSS $4 / $5 KiB" >&2; }

run_cp() {  # run, with_fsync
    local dst=$TMP/dst/$FILE t0 t1 rss
    before_run
    t0=$(now)
    bounded /usr/bin/time -f %M -o "$TMP/cp.rss" cp "$TMP/src/$FILE" "$dst"
    [ "$2" = 1 ] && bounded sync "$dst"   # coreutils sync FILE: fsync of that file
    t1=$(now)
    cmp -s "$TMP/src/$FILE" "$dst" || { echo "cp: copy differs" >&2; exit 1; }
    rss=$(tail -1 "$TMP/cp.rss")
    record "$([ "$2" = 1 ] && echo cp-fsync || echo cp)" "$1" "$(elapsed "$t0" "$t1")" "$rss" "$rss"
    rm -f "$dst"
}

run_socat() {
    local dst=$TMP/dst/$FILE port t0 t1 spid i
    port=$(free_port)
    before_run
    timeout -k 5 "$STEP_LIMIT" /usr/bin/time -f %M -o "$TMP/socat-send.rss" \
        socat -u "FILE:$TMP/src/$FILE" "TCP-LISTEN:$port,reuseaddr,bind=127.0.0.1" &
    spid=$!
    PIDS+=("$spid")
    for i in $(seq 100); do listening "$port" && break; sleep 0.05; done
    listening "$port" || { echo "socat did not listen on $port" >&2; exit 1; }
    t0=$(now)
    bounded /usr/bin/time -f %M -o "$TMP/socat-recv.rss" socat -u "TCP:127.0.0.1:$port" "CREATE:$dst"
    t1=$(now)
    wait "$spid"
    forget "$spid"
    cmp -s "$TMP/src/$FILE" "$dst" || { echo "socat: copy differs" >&2; exit 1; }
    record socat "$1" "$(elapsed "$t0" "$t1")" "$(tail -1 "$TMP/socat-send.rss")" "$(tail -1 "$TMP/socat-recv.rss")"
    rm -f "$dst"
}

run_peers() {  # run, sender, receiver, name...   (RELAY=plain|tls: node -> node through the relay)
    local run=$1 sender=$2 receiver=$3 out
    shift 3
    local extra=()
    [ "$DROP" = 1 ] && extra+=(--drop-caches)
    [ -n "${RELAY:-}" ] && extra+=(--relay "$RELAY")
    # Output to a file, not $(...): a subshell would hide the pid from cleanup.
    bounded "$PY" "$ROOT/bench/peer_transfer.py" --sender "$sender" --receiver "$receiver" \
        --send-dir "$TMP/send" --recv-dir "$TMP/recv" --file "$FILE" --node "$NODE" \
        --requests "$#" --log "$TMP/consoles.log" "${extra[@]}" > "$TMP/transfer.json" || {
        echo "$sender -> $receiver failed: $(cat "$TMP/transfer.json") (consoles: last lines below)" >&2
        tail -20 "$TMP/consoles.log" >&2
        exit 1
    }
    out=$(cat "$TMP/transfer.json")
    [ -n "${RELAY:-}" ] && echo "$out" >> "$TMP/relay.jsonl"
    local i=0 name secs rs rr
    for name in "$@"; do
        read -r secs rs rr < <("$PY" -c 'import json,sys; d=json.loads(sys.argv[1]); print(d["seconds"][int(sys.argv[2])], d["rss_send_kib"], d["rss_recv_kib"])' "$out" "$i")
        record "$name" "$run" "$secs" "$rs" "$rr"
        i=$((i + 1))
    done
}

for run in $(seq "$RUNS"); do
    echo "== run $run of $RUNS" >&2
    if want cp; then run_cp "$run" 0; run_cp "$run" 1; fi
    if want socat; then run_socat "$run"; fi
    if want lab; then run_peers "$run" lab lab lab-lab; fi
    if want node; then run_peers "$run" node node node-node-first node-node-cached; fi
    if want relay; then
        RELAY=plain run_peers "$run" node node relay-plain-first relay-plain-cached
        RELAY=tls run_peers "$run" node node relay-tls-first relay-tls-cached
    fi
    if want cross; then
        run_peers "$run" lab node lab-node
        run_peers "$run" node lab node-lab
    fi
done

if want search; then
    g++ -O2 -std=c++17 -o "$TMP/search-client" bench/search_client.cpp
    mkdir -p "$TMP/search"
    echo 'x' > "$TMP/search/$FILE"
    for run in $(seq "$RUNS"); do
        for peer in node lab; do
            echo "== search load: $peer, run $run of $RUNS" >&2
            bounded "$PY" "$ROOT/bench/search_load.py" --peer "$peer" --dir "$TMP/search" \
                --file "$FILE" --clients "$CLIENTS" --seconds "$SEARCH_SECONDS" --node "$NODE" \
                --client "$TMP/search-client" >> "$SEARCH"
            tail -1 "$SEARCH" >&2
        done
    done
fi

if want handshake; then
    echo "== handshake: $HANDSHAKES connections per phase, sequential and 4 at once" >&2
    bounded "$PY" "$ROOT/bench/tls_handshake.py" --node "$NODE" --connections "$HANDSHAKES" \
        --parallel 4 > "$TMP/handshake.md" || { echo "handshake benchmark failed:" >&2; cat "$TMP/handshake.md" >&2; exit 1; }
fi

{
    echo "load:    $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min) at the end"
    echo
    "$PY" "$ROOT/bench/summarize.py" "$RESULTS" --bytes "$BYTES" $([ -s "$SEARCH" ] && echo "--search $SEARCH")
    echo
    echo "raw: method, run, seconds, peak RSS sender KiB, peak RSS receiver KiB"
    cat "$RESULTS"
    [ -s "$TMP/relay.jsonl" ] && { echo "raw relay (rss_relay_kib: the relay's own peak RSS):"; cat "$TMP/relay.jsonl"; }
    [ -s "$SEARCH" ] && { echo "raw search:"; cat "$SEARCH"; }
    [ -s "$TMP/handshake.md" ] && { echo; echo "handshake (bench/tls_handshake.py):"; cat "$TMP/handshake.md"; }
} >> "$REPORT"
cat "$REPORT"
if [ -n "$OUT" ]; then cp "$REPORT" "$OUT"; fi

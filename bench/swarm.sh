#!/usr/bin/env bash
# The swarm benchmark of docs/benchmarks.md, "Swarm downloads (issue 9)": in one run on this
# machine, bench/swarm.py measures one source against cp + fsync and socat (512 MiB: `get` with
# the manifest ready, `request` racing the indexer), the first byte of a never-requested 4 GiB
# file, 4 rate-limited sources against 1, peak RSS of 4 GiB `get`s from 1 and 8 sources, and a
# download from 4 sources one of which corrupts every chunk. Prints the environment, the tables
# and the raw JSON lines.
#
# Usage: bench/swarm.sh [--no-wait] [--out FILE] [DRIVER OPTIONS]
#   --no-wait     do not wait for the 1-minute load average to fall below 1.0 (at most 10 min)
#   --out FILE    also write the report to FILE
#   the rest goes to bench/swarm.py: --runs N (timed runs per step, default 3; tables show
#   median (min-max)), --steps LIST (of one,ttfb,rate,rss,corrupt; default all), --size BYTES
# Every process it starts is ended and its temporary folder deleted, also on Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

WAIT=1 OUT="" DRIVER_ARGS=()
usage() { sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
while [ $# -gt 0 ]; do
    case "$1" in
        --no-wait) WAIT=0; shift ;;
        --out) OUT=$2; shift 2 ;;
        -h|--help) usage 0 ;;
        *) DRIVER_ARGS+=("$1"); shift ;;
    esac
done

# ---- what it needs: the build tools (tools/deps.sh), socat, python3, iproute2 (ss) ----
. tools/deps.sh
ensure_packages "${BUILD_PACKAGES[@]}" socat python3 iproute2 || { echo "could not install packages" >&2; exit 1; }
echo "== build" >&2
b2 -j"$(nproc)" -d0 >/dev/null || { echo "build failed: run b2 to see why" >&2; exit 1; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/p2p-swarm.XXXXXX")
DRIVER=""
cleanup() {
    if [ -n "$DRIVER" ]; then kill -TERM "$DRIVER" 2>/dev/null || true; wait "$DRIVER" 2>/dev/null || true; fi
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- disk: 4 GiB files, one at a time, plus 512 MiB and its copy; 2 GiB to spare ----
avail=$(df --output=avail -B1 "$TMP" | tail -1 | tr -d ' ')
if [ "$avail" -lt $(( 11 * 1024 * 1024 * 1024 )) ]; then
    echo "not enough space in $TMP: $((avail / 1048576)) MiB free, 11 GiB needed" >&2; exit 1
fi

# ---- other engineers share the machine: wait (10 s polls, 10 min at most) for a quiet moment ----
if [ "$WAIT" = 1 ]; then
    for _ in $(seq 60); do
        awk '{ exit !($1 < 1.0) }' /proc/loadavg && break
        echo "   load $(cut -d' ' -f1 /proc/loadavg): waiting for < 1.0" >&2
        sleep 10
    done
fi

REPORT=$TMP/report.txt
{
    echo "date:    $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    echo "command: bench/swarm.sh$([ "$WAIT" = 0 ] && echo ' --no-wait') ${DRIVER_ARGS[*]:-} (driver defaults: --runs 3, every step)"
    echo "commit:  $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet 2>/dev/null || echo ' (with local changes)')"
    echo "cpu:     $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
    echo "memory:  $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
    echo "kernel:  $(uname -sr)"
    echo "disk:    $(df -h --output=source,fstype,size,avail "$TMP" | tail -1 | tr -s ' ') (temp folder $TMP)"
    echo "load:    $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min) at start"
} > "$REPORT"
cat "$REPORT" >&2

# The driver ends its nodes on SIGTERM; `timeout` bounds the whole run (2 h).
timeout -k 10 7200 python3 bench/swarm.py --dir "$TMP" --node "$ROOT/stage/p2p-node" \
    --log "$TMP/consoles.log" "${DRIVER_ARGS[@]}" > "$TMP/results.jsonl" &
DRIVER=$!
rc=0; wait "$DRIVER" || rc=$?
DRIVER=""
{
    echo "load:    $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min) at the end"
    echo
    python3 bench/swarm.py --dir "$TMP" --report "$TMP/results.jsonl" "${DRIVER_ARGS[@]}"
    echo
    echo "raw:"
    cat "$TMP/results.jsonl"
} >> "$REPORT"
cat "$REPORT"
if [ -n "$OUT" ]; then cp "$REPORT" "$OUT"; fi
[ "$rc" = 0 ] || { echo "the driver failed ($rc); consoles:" >&2; tail -30 "$TMP/consoles.log" >&2; exit 1; }

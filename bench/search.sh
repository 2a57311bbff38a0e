#!/usr/bin/env bash
# The overlay benchmark of docs/benchmarks.md (issue 7), in one run on this machine: a flooded
# search over 50 of our nodes in a line and in random graphs (time to first hit, hits, messages
# as the origin counts them, nodes that handled the query, QUERY/HIT lines on the wire), with
# several ttls; then `scan` of 50 silent addresses. The work is done by bench/overlay_search.py.
# Links between our nodes are TLS, so the wire counts come from the nodes' own --trace lines.
#
# Usage: bench/search.sh [--nodes N] [--line-reps N] [--random-reps N] [--random-k LIST]
#                        [--phases LIST] [--seed N] [--no-trace] [--no-build] [--out FILE]
#   --nodes N          nodes in each overlay; default 50
#   --line-reps N      searches per (holder distance, ttl) on the line; default 5
#   --random-reps N    searches per ttl on each random graph; default 10
#   --random-k LIST    --neighbours of the random graphs, comma list; default 2,4
#                      (2 gives a mean degree of about 4: every link chosen by one side is
#                      answered by a link back, so a node's degree is what it chose plus
#                      who chose it)
#   --phases LIST      comma list of: line random scan; default all three
#   --seed N           the random choices (bootstrap nodes, origins, holders); default random
#   --no-trace         nodes without --trace: no wire counts (to compare the timings)
#   --no-build         use stage/p2p-node as it is (default: `b2` first)
#   --out FILE         also write the report to FILE (and the raw JSON lines to FILE.jsonl)
# As root the run has a network namespace of its own (only this run on its loopback) and also
# scans 50 hosts routed to a tun device; without root the scan of the tun device is left out.
# Takes about 6 minutes. Every node runs under `timeout`; all of them, the namespace and the
# temporary folder are removed on exit, also on Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

NODES=50 LINE_REPS=5 RANDOM_REPS=10 RANDOM_K=2,4 PHASES=line,random,scan SEED="" BUILD=1 OUT="" TRACE=1
usage() { sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
positive() { [[ "$2" =~ ^[1-9][0-9]*$ ]] || { echo "invalid $1 '$2': a positive number" >&2; exit 2; }; }
while [ $# -gt 0 ]; do
    case "$1" in
        --nodes) NODES=$2; shift 2 ;;
        --line-reps) LINE_REPS=$2; shift 2 ;;
        --random-reps) RANDOM_REPS=$2; shift 2 ;;
        --random-k) RANDOM_K=$2; shift 2 ;;
        --phases) PHASES=$2; shift 2 ;;
        --seed) SEED=$2; shift 2 ;;
        --no-trace) TRACE=0; shift ;;
        --no-build) BUILD=0; shift ;;
        --out) OUT=$2; shift 2 ;;
        -h|--help) usage 0 ;;
        *) echo "unknown option: $1" >&2; usage 2 >&2 ;;
    esac
done
positive --nodes "$NODES"; positive --line-reps "$LINE_REPS"; positive --random-reps "$RANDOM_REPS"
[ "$NODES" -ge 2 ] || { echo "--nodes must be at least 2" >&2; exit 2; }
[[ "$RANDOM_K" =~ ^[1-9][0-9]?(,[1-9][0-9]?)*$ ]] || { echo "invalid --random-k '$RANDOM_K'" >&2; exit 2; }
[[ "$PHASES" =~ ^(line|random|scan)(,(line|random|scan))*$ ]] || { echo "invalid --phases '$PHASES'" >&2; exit 2; }
[ -z "$SEED" ] || positive --seed "$SEED"

. bench/harness.sh
bench_prepare search "$BUILD"

OPTS=(--nodes "$NODES" --line-reps "$LINE_REPS" --random-reps "$RANDOM_REPS" --random-k "$RANDOM_K"
      --phases "$PHASES")
[ -n "$SEED" ] && OPTS+=(--seed "$SEED")
[ "$TRACE" = 0 ] && OPTS+=(--no-trace)
ARGS=("${OPTS[@]}" --node "$NODE" --tmp "$TMP/nodes" --raw "$TMP/raw.jsonl"
      --command "bench/search.sh ${OPTS[*]}")
# In the namespace a tun device can be made for the scan.
[ -n "$NETNS" ] && ARGS+=(--private-netns --tun-scan)
mkdir "$TMP/nodes"
bench_run 1200 "$OUT" bench/overlay_search.py "${ARGS[@]}"   # at most 20 minutes in all

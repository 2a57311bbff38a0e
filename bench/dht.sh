#!/usr/bin/env bash
# The DHT benchmark of docs/benchmarks.md (issue 10), in one run on this machine: for each
# network size, our nodes with --dht 0 in a random overlay (--neighbours 2), then searches from
# random origins for fresh files held by other random nodes: `search NAME 7` asks the DHT first
# and then floods the overlay. Per size: the DHT's time to the first value, its lookup time and
# the find/get requests it cost; the flood's time to the first hit and its QUERY/HIT lines on
# the wire; and how both grow with the size. The work is done by bench/dht.py.
#
# Usage: bench/dht.sh [--nodes LIST] [--searches N] [--seed N] [--no-build] [--out FILE]
#   --nodes LIST       network sizes, comma list, each 2 to 200; default 10,20,30,50
#   --searches N       searches per size, each for a file of its own; default 20
#   --seed N           the random choices (bootstrap nodes, origins, holders); default random
#   --no-build         use stage/p2p-node as it is (default: `b2` first)
#   --out FILE         also write the report to FILE (and the raw JSON lines to FILE.jsonl)
# As root the run has a network namespace of its own (only this run on its loopback).
# Takes about 6 minutes with the defaults. Every node runs under `timeout`; all of them, the
# namespace and the temporary folder are removed on exit, also on Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

SIZES=10,20,30,50 SEARCHES=20 SEED="" BUILD=1 OUT=""
usage() { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
positive() { [[ "$2" =~ ^[1-9][0-9]*$ ]] || { echo "invalid $1 '$2': a positive number" >&2; exit 2; }; }
while [ $# -gt 0 ]; do
    case "$1" in
        --nodes) SIZES=$2; shift 2 ;;
        --searches) SEARCHES=$2; shift 2 ;;
        --seed) SEED=$2; shift 2 ;;
        --no-build) BUILD=0; shift ;;
        --out) OUT=$2; shift 2 ;;
        -h|--help) usage 0 ;;
        *) echo "unknown option: $1" >&2; usage 2 >&2 ;;
    esac
done
[[ "$SIZES" =~ ^[0-9]{1,3}(,[0-9]{1,3})*$ ]] || { echo "invalid --nodes '$SIZES': a comma list of sizes" >&2; exit 2; }
for n in ${SIZES//,/ }; do
    [ "$n" -ge 2 ] && [ "$n" -le 200 ] || { echo "invalid --nodes '$SIZES': each size from 2 to 200" >&2; exit 2; }
done
positive --searches "$SEARCHES"
[ -z "$SEED" ] || positive --seed "$SEED"

. bench/harness.sh
bench_prepare dht "$BUILD"

OPTS=(--nodes "$SIZES" --searches "$SEARCHES")
[ -n "$SEED" ] && OPTS+=(--seed "$SEED")
ARGS=("${OPTS[@]}" --node "$NODE" --tmp "$TMP/nodes" --raw "$TMP/raw.jsonl" --command "bench/dht.sh ${OPTS[*]}")
[ -n "$NETNS" ] && ARGS+=(--private-netns)
mkdir "$TMP/nodes"
bench_run 1200 "$OUT" bench/dht.py "${ARGS[@]}"   # at most 20 minutes in all

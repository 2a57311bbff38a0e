# Sourced by bench/search.sh and bench/dht.sh: the part of a benchmark run around its Python
# driver. With ROOT set (the checkout) and the working folder there:
#   bench_prepare NAME BUILD   packages, `b2` when BUILD is 1, NODE (stage/p2p-node), TMP (a new
#                              temporary folder), and, as root, a network namespace of its own
#                              (NETNS; IN_NS is the command prefix that runs in it); the traps
#                              that remove them all on exit, Ctrl-C and SIGTERM.
#   bench_run LIMIT OUT DRIVER ARGS...
#                              python3 DRIVER ARGS under `timeout LIMIT` (seconds) in the
#                              namespace, in the background so Ctrl-C reaches the trap at once;
#                              prints the commit and its report, and copies both to OUT (and the
#                              driver's $TMP/raw.jsonl to OUT.jsonl) when OUT is not empty.
. "$ROOT/tools/deps.sh"

bench_prepare() {
    ensure_packages python3 iproute2 coreutils || { echo "could not install packages" >&2; exit 1; }
    if [ "$2" = 1 ]; then
        echo "== build" >&2
        ensure_packages "${BUILD_PACKAGES[@]}" || { echo "could not install packages" >&2; exit 1; }
        b2 -j"$(nproc)" -d0 >/dev/null || { echo "build failed: run b2 to see why" >&2; exit 1; }
    fi
    NODE=$ROOT/stage/p2p-node
    [ -x "$NODE" ] || { echo "no $NODE: build it with b2" >&2; exit 1; }
    TMP=$(mktemp -d "${TMPDIR:-/tmp}/p2p-$1.XXXXXX")
    # Only this run's packets on the namespace's loopback: no other session's connections share it.
    NETNS="" IN_NS=()
    if [ "$(id -u)" = 0 ] && ip netns add "p2p-$1-$$" 2>/dev/null; then
        NETNS=p2p-$1-$$
        ip -n "$NETNS" link set lo up
        IN_NS=(ip netns exec "$NETNS")
    fi
    PID=""
    trap bench_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

bench_cleanup() {
    # The driver ends its nodes itself; `timeout` ends the driver's whole group if it hangs.
    if [ -n "$PID" ]; then kill -TERM "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
    if [ -n "$NETNS" ]; then ip netns del "$NETNS" 2>/dev/null || true; fi
    rm -rf "$TMP"
}

bench_run() {
    local limit=$1 out=$2 driver=$3 rc=0
    shift 3
    timeout -k 10 "$limit" "${IN_NS[@]}" python3 "$ROOT/$driver" "$@" > "$TMP/report.txt" &
    PID=$!
    wait "$PID" || rc=$?
    PID=""
    [ "$rc" = 0 ] || { echo "$driver failed ($rc)" >&2; cat "$TMP/report.txt" >&2; exit 1; }
    { echo "commit:  $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet 2>/dev/null || echo ' (with local changes)')"
      cat "$TMP/report.txt"; } > "$TMP/full.txt"
    cat "$TMP/full.txt"
    if [ -n "$out" ]; then cp "$TMP/full.txt" "$out"; cp "$TMP/raw.jsonl" "$out.jsonl"; fi
}

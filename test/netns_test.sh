#!/usr/bin/env bash
# Multi-host test: five nodes, each in its own network namespace with its own address, joined by
# a bridge that lives in a namespace of its own, plus one silent host. It proves, across hosts:
# a scan (the nodes active, the silent host inactive, the whole scan in under 3 s), gossip (node
# 1 learns every node though it was told of none), a flooded search (a file only node 5 holds)
# and a download (SHA-256 verified, the bytes compared with cmp).
#
# Nothing outside the namespaces it made is contacted: the node namespaces have no route but
# 10.77.0.0/24 on their own veth, and nothing at all is added to the caller's namespace (every
# veth is created with its two ends already inside test namespaces). A trap kills the nodes,
# deletes the namespaces and the temporary folder on any exit, Ctrl-C included.
#
# Usage: test/netns_test.sh [NODE-BINARY]      (default stage/p2p-node; build it with b2)
# Exit:  0 passed, 1 failed, 77 skipped (not root, no iproute2, network namespaces, veth or
#        bridges not permitted here: the last line says why), 2 no binary.
set -u
cd "$(dirname "$0")/.."

skip() { echo "netns test skipped: $*"; exit 77; }
fail() { echo "netns test FAILED: $*"; show_logs; exit 1; }
say()  { echo "netns: $*"; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

node_bin=${1:-stage/p2p-node}
[ -x "$node_bin" ] || { echo "netns test: no node binary at $node_bin (build it with b2)"; exit 2; }
node_bin=$(realpath "$node_bin")

[ "$(id -u)" -eq 0 ] || skip "needs root (ip netns add)"
if ! command -v ip >/dev/null; then
    . tools/deps.sh
    ensure_packages iproute2 >/dev/null 2>&1 && command -v ip >/dev/null ||
        skip "the ip command (iproute2) is missing and could not be installed"
fi

nodes=5                       # node k is 10.77.0.k:5000 in namespace $prefix-nk
silent=10.77.0.6              # answers ARP, then drops every SYN: a firewalled host
port=5000
prefix=p2pt-$$                # unique per run: two runs never share a name
file=netns-check.bin          # only node 5 holds it
pids=()                       # node processes, by node number
fds=()                        # the write end of each node's console FIFO
tmp=$(mktemp -d /tmp/p2pt.XXXXXX)
# 'ip netns add' makes /run/netns a mount point the first time; if this run made it, the
# cleanup removes it again (in a chroot it would otherwise outlive the chroot's own cleanup).
netns_was_mounted=0
mountpoint -q /run/netns 2>/dev/null && netns_was_mounted=1

# Ends the nodes ('quit', then SIGKILL after 3 s) and deletes every namespace named $prefix-*:
# found by name, not only from what was recorded, so a Ctrl-C between 'ip netns add' and the
# bookkeeping leaves nothing behind either; any process still inside one of them is killed.
cleanup() {
    trap - EXIT INT TERM
    local i ns t ours
    for i in "${!fds[@]}"; do
        printf 'quit\n' >&"${fds[$i]}" 2>/dev/null
        eval "exec ${fds[$i]}>&-"
    done
    for t in $(seq 30); do
        kill -0 "${pids[@]}" 2>/dev/null || break  # true while any is alive
        sleep 0.1
    done
    ours=$(ip netns list 2>/dev/null | awk -v p="$prefix-" 'index($1, p) == 1 { print $1 }')
    for ns in $ours; do kill -KILL $(ip netns pids "$ns" 2>/dev/null) 2>/dev/null; done
    for i in "${!pids[@]}"; do kill -KILL "${pids[$i]}" 2>/dev/null; wait "${pids[$i]}" 2>/dev/null; done
    for ns in $ours; do
        ip netns delete "$ns" 2>/dev/null || echo "netns: could not delete namespace $ns"
    done
    if [ "$netns_was_mounted" -eq 0 ] && mountpoint -q /run/netns 2>/dev/null &&
       [ -z "$(ls -A /run/netns 2>/dev/null)" ]; then
        umount /run/netns 2>/dev/null
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap '' PIPE  # a node that died makes a write to its FIFO fail, not this script

show_logs() {
    local i
    for i in $(seq "$nodes"); do
        [ -f "$tmp/n$i/log" ] || continue
        echo "--- node $i (10.77.0.$i) log, last 15 lines:"
        tail -15 "$tmp/n$i/log" | sed -e 's/^/    /' -e '$a\'  # a newline after a last '>:'
    done
}

# The network. Only namespace creation can show that this host does not permit it; veth and
# bridge failures (a kernel without them) are the same kind of environment limit: skip.
add_ns() {
    local err
    err=$(ip netns add "$1" 2>&1) || skip "ip netns add failed: ${err:-no reason given}"
    ip -n "$1" link set lo up || skip "cannot bring up lo in namespace $1"
}
# attach NAMESPACE ADDRESS/PREFIX: a veth from the bridge (port pNAME) to eth0 in NAMESPACE.
attach() {
    local ns=$1 addr=$2 port_name=p${1##*-} err
    err=$(ip -n "$prefix-br" link add "$port_name" type veth peer name eth0 netns "$ns" 2>&1) ||
        skip "cannot create a veth pair: $err"
    ip -n "$prefix-br" link set "$port_name" master br0 up &&
        ip -n "$ns" addr add "$addr" dev eth0 && ip -n "$ns" link set eth0 up ||
        fail "cannot configure $ns"
}

add_ns "$prefix-br"
err=$(ip -n "$prefix-br" link add br0 type bridge 2>&1) || skip "cannot create a bridge: $err"
ip -n "$prefix-br" link set br0 up || fail "cannot bring up the bridge"
for i in $(seq "$nodes"); do
    add_ns "$prefix-n$i"
    attach "$prefix-n$i" "10.77.0.$i/24"
done
# The silent host has its address as a /32 and no route at all: the kernel answers ARP for it
# (so the scanner's SYNs really reach it), but the SYN-ACK or RST it would send has nowhere to
# go and is dropped. Nothing comes back: not a refusal, not an ICMP error.
add_ns "$prefix-silent"
attach "$prefix-silent" "$silent/32"
for i in $(seq "$nodes"); do
    routes=$(ip -n "$prefix-n$i" -4 route show)
    [ "$(wc -l <<<"$routes")" -eq 1 ] && [[ $routes == "10.77.0.0/24 dev eth0 "* ]] ||
        fail "namespace $prefix-n$i has unexpected routes: $routes"
done
say "namespaces $prefix-{br,n1..n$nodes,silent} up"

# wait_for NODE SECONDS PATTERN: PATTERN (grep -E) appears in NODE's log after its mark; the
# console's prompt (">:", printed before whatever line comes next) is cut off first.
declare -A mark
set_mark() { mark[$1]=$(wc -l <"$tmp/n$1/log"); }
since_mark() { tail -n +"$(( ${mark[$1]:-0} + 1 ))" "$tmp/n$1/log" | sed -E 's/^(>:)+//'; }
wait_for() {
    local n=$1 deadline=$(( $(now_ms) + $2 * 1000 )) pattern=$3
    while [ "$(now_ms)" -lt "$deadline" ]; do
        since_mark "$n" | grep -qE "$pattern" && return 0
        kill -0 "${pids[$n]}" 2>/dev/null || fail "node $n exited (waiting for: $pattern)"
        sleep 0.1
    done
    return 1
}
send() { printf '%s\n' "$2" >&"${fds[$1]}" || fail "cannot write to node $1's console"; }

# The nodes, a line 1-2-3-4-5: node k bootstraps from node k-1 only and opens one link by
# choice (--neighbours 1); node 1 opens none (--neighbours 0), it only links back to node 2.
# Node k starts once node k-1 has its link, so that node k+1 cannot take node k's only slot
# first and cut the line in two. Node 1 then learns 3..5 by gossip alone, and a query from
# node 1 reaches node 5 only through 2, 3 and 4.
for i in $(seq "$nodes"); do
    d=$tmp/n$i
    mkdir -p "$d/shared" "$d/state"
    mkfifo "$d/in"
    opts=(--neighbours 0 --verbose)  # --verbose: the 'is node' lines waited for below
    [ "$i" -gt 1 ] && opts=(--verbose --neighbours 1 --bootstrap "10.77.0.$((i - 1)):$port")
    # setsid: a Ctrl-C reaches this script (whose trap ends the nodes), not the nodes directly.
    setsid ip netns exec "$prefix-n$i" "$node_bin" --host "10.77.0.$i" --port "$port" "${opts[@]}" \
        --shared "$d/shared" --state "$d/state" <"$d/in" >"$d/log" 2>&1 &
    pids[$i]=$!
    exec {fd}>"$d/in"
    fds[$i]=$fd
    wait_for "$i" 10 "^Node listening on 10\\.77\\.0\\.$i:$port\$" || fail "node $i did not start in 10 s"
    [ "$i" -eq 1 ] || wait_for $((i - 1)) 10 "is node 10\\.77\\.0\\.$i:$port \\(overlay/1,accept/1,tls/1\\)\\.\$" ||
        fail "node $i did not link to node $((i - 1)) in 10 s"
done
head -c 1500000 /dev/urandom >"$tmp/n$nodes/shared/$file"
say "$nodes nodes listening, each linked to the one before"

# Gossip: node 1 knows every other node within 30 s.
t0=$(now_ms)
missing=""
while [ "$(now_ms)" -lt $(( t0 + 30000 )) ]; do
    set_mark 1
    send 1 peers
    wait_for 1 5 '^Known peers|^No known peers' || fail "node 1 did not answer 'peers'"
    sleep 0.2
    missing=""
    for i in $(seq 2 "$nodes"); do
        since_mark 1 | grep -q "^10\\.77\\.0\\.$i:$port " || missing+=" 10.77.0.$i"
    done
    [ -z "$missing" ] && break
    sleep 0.8
done
[ -z "$missing" ] || fail "after 30 s node 1 still does not know:$missing"
say "gossip: node 1 knows nodes 2-$nodes after $(( $(now_ms) - t0 )) ms"

# Scan: the nodes are active, the silent host inactive, all in about one probe timeout (1 s,
# probes in parallel). At least 0.9 s shows the silent host really was silent: a refused or
# unreachable probe would end at once.
set_mark 1
t0=$(now_ms)
send 1 "scan 10.77.0.1-$silent:$port"
wait_for 1 10 "^Peer ${silent//./\\.}:$port is (in)?active\\.\$" || fail "the scan did not end in 10 s"
took=$(( $(now_ms) - t0 ))
for i in $(seq 2 "$nodes"); do
    since_mark 1 | grep -q "^Peer 10\\.77\\.0\\.$i:$port is active\\.\$" || fail "scan: node $i not active"
done
since_mark 1 | grep -q "^Peer ${silent//./\\.}:$port is inactive\\.\$" || fail "scan: the silent host is not inactive"
[ "$took" -lt 3000 ] || fail "scan took $took ms (expected about 1000)"
[ "$took" -ge 900 ] || fail "scan took $took ms: the silent host answered instead of staying silent"
say "scan: nodes 2-$nodes active, $silent inactive, $took ms"

# Search: a file only the last node holds, found from node 1 through the overlay.
set_mark 1
send 1 "search $file"
wait_for 1 15 "^Search for $file: " || fail "search did not end in 15 s"
hit=$(since_mark 1 | grep -E "^$file found on 10\\.77\\.0\\.$nodes:$port \\(") ||
    fail "search from node 1 did not find $file on node $nodes: $(since_mark 1 | grep '^Search for' | tail -1)"
[ "$hit" = "$file found on 10.77.0.$nodes:$port ($((nodes - 1)) hops)" ] ||
    fail "search: '$hit': expected $((nodes - 1)) hops, along the line"
for i in $(seq 2 "$nodes"); do
    grep -qE "Query for $file from 10\\.77\\.0\\.$((i - 1)):$port \\($((i - 1)) hops?\\)" "$tmp/n$i/log" ||
        fail "node $i did not log the query from node $((i - 1))"
done
say "search: $hit, relayed by every node on the way"

# Download: node 1 connects to node 5 and fetches the file; SHA-256 verified and cmp equal.
set_mark 1
send 1 "request $file 10.77.0.$nodes:$port"
to="10\\.77\\.0\\.$nodes:$port"  # the lines that end a request (console.cpp), "SHA-256 verified." last
wait_for 1 20 "^SHA-256 verified\\.\$|^$file (not found|from .* failed|already exists)|^Peer $to (is |disconnected|stalled|sent )|^Could not save|^Download of|^Invalid" ||
    fail "request did not end in 20 s"
since_mark 1 | grep -q '^SHA-256 verified\.$' ||
    fail "request: $(since_mark 1 | grep -vE '^(Request file|Peer .* connected\.)' | head -3)"
cmp -s "$tmp/n$nodes/shared/$file" "$tmp/n1/shared/$file" || fail "the downloaded $file differs from node $nodes's"
say "download: $(stat -c %s "$tmp/n1/shared/$file") bytes from node $nodes, SHA-256 verified, cmp equal"

# Every node quits on 'quit' within 5 s.
for i in $(seq "$nodes"); do send "$i" quit; done
deadline=$(( $(now_ms) + 5000 ))
for i in $(seq "$nodes"); do
    while kill -0 "${pids[$i]}" 2>/dev/null; do
        [ "$(now_ms)" -lt "$deadline" ] || fail "node $i did not quit within 5 s"
        sleep 0.1
    done
done
say "all nodes quit"
echo "netns test passed"

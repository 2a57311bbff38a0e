#!/usr/bin/env bash
# Plays the lab's Task 1 scenario on the detached demo (./run_nodes.sh --detach) by writing
# commands into logs/demo/5000.in, and prints what each command added to the nodes' logs.
# docs/scenario.md was captured with it. Usage: tools/demo_scenario.sh
set -u
cd "$(dirname "$0")/.." || exit 1
D=logs/demo
ME=5000
OTHERS=(5003 5005 5009)

for p in "$ME" "${OTHERS[@]}"; do
    [ -p "$D/$p.in" ] || { echo "no $D/$p.in: start the demo first: ./run_nodes.sh --detach" >&2; exit 1; }
done

size() { stat -c %s "$1"; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# step CMD: sends CMD to node 5000, waits (at most 15 s) until it shows its next prompt (or has
# exited, for quit), then prints 5000's new output as a terminal shows it (">:" CMD, output)
# and the lines the other nodes printed meanwhile.
step() {
    local cmd=$1 p t0 t1 deadline
    declare -A off
    for p in "$ME" "${OTHERS[@]}"; do off[$p]=$(size "$D/$p.log"); done
    t0=$(now_ms)
    printf '%s\n' "$cmd" >"$D/$ME.in"
    deadline=$((SECONDS + 15))
    while [ $SECONDS -lt $deadline ]; do
        if [ "$(size "$D/$ME.log")" -gt "${off[$ME]}" ]; then
            [ "$(tail -c 2 "$D/$ME.log")" = ">:" ] && break
            [ "$cmd" = quit ] && grep -q "All sockets closed" "$D/$ME.log" && break
        fi
        sleep 0.005
    done
    t1=$(now_ms)
    sleep 0.3   # the other nodes print their side asynchronously
    echo "----- node $ME: $cmd   ($((t1 - t0)) ms until the next prompt)"
    printf '>:%s\n' "$cmd"
    tail -c +"$((off[$ME] + 1))" "$D/$ME.log" | sed '$ s/^>:$//' | sed '/^$/d'
    for p in "${OTHERS[@]}"; do
        if [ "$(size "$D/$p.log")" -gt "${off[$p]}" ]; then
            echo "----- node $p meanwhile:"
            tail -c +"$((off[$p] + 1))" "$D/$p.log"; echo
        fi
    done
}

echo "----- node $ME at start:"
cat "$D/$ME.log"; echo
step scan
step lp
step "connect 5003"
step "connect 5005"
step "connect 5009"
step lp
step "sf SkyShip.jpg"
step "sf SkyPalace.jpg"
step "request SkyPalace.jpg 5003"
step "request SkyShip.jpg 5003"
step "disconnect 5003"
step lp
step quit
echo "----- shared/$ME after the scenario:"
ls -l "shared/$ME"
cmp "shared/$ME/SkyShip.jpg" shared/5003/SkyShip.jpg && echo "shared/$ME/SkyShip.jpg is identical to shared/5003/SkyShip.jpg"

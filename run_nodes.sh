#!/usr/bin/env bash
# shellcheck disable=SC2016  # the single-quoted scripts are expanded by the inner shell
# run_nodes.sh: builds p2p-node and starts the lab's demo, nodes 5000, 5003, 5005 and 5009 on
# 127.0.0.1, each sharing shared/<port>. In tmux panes on a terminal, else detached with named
# pipes for input. --overlay N starts N other nodes, detached, joined by gossip. See usage()
# below, or ./run_nodes.sh --help.
set -u
# P2P_NODE (see usage) may be given relative to where the script was started.
case "${P2P_NODE:-}" in ""|/*) ;; *) P2P_NODE=$PWD/$P2P_NODE ;; esac
cd "$(dirname "$0")" || exit 1

PORTS=(5000 5003 5005 5009)
HOST=127.0.0.1                 # the node's default --host
SESSION=p2p-demo               # the tmux session
BIN=stage/p2p-node
DEMO_DIR=logs/demo             # detached mode: <port>.in (FIFO), <port>.log, <port>.pid
READY_SECONDS=10               # how long a node may take to print "Node listening on ..."
OVERLAY_DIR=logs/overlay       # --overlay: as DEMO_DIR, plus ports, shared/<port>/, state/<port>/
OVERLAY_BASE=5100              # --overlay's first port unless --base-port
OVERLAY_MAX=50
OVERLAY_NEIGHBOURS=2           # few neighbours each, so a search crosses several hops
# The committed sample files. --reset keeps these and removes everything else in shared/<port>/.
SAMPLES=(shared/5000/hello.txt
         shared/5003/SkyShip.jpg
         shared/5005/Mountains.jpg shared/5005/notes.txt
         shared/5009/SkyShip.jpg shared/5009/Lighthouse.jpg)

usage() {
    cat <<EOF
Usage: ./run_nodes.sh [--detach [--reset] | --overlay N [--base-port P] [--dht] | --stop [--reset]
                      | --reset | --help]

Builds $BIN (installing the Debian packages it needs when they are missing) and
starts the lab's demo: nodes ${PORTS[*]} on $HOST, each sharing shared/<port>.

  (no option)  on a terminal: tmux session "$SESSION", four panes, one node in each; type
               the lab's commands (help, scan, connect 5003, lp, sf SkyShip.jpg, ...) in a pane.
               Ctrl-b o or a mouse click moves between panes, Ctrl-b d detaches.
               Without a terminal this is --detach.
  --detach     start the nodes in the background. Each reads commands from the named pipe
               $DEMO_DIR/<port>.in and writes to $DEMO_DIR/<port>.log:
                   echo lp > $DEMO_DIR/5000.in; cat $DEMO_DIR/5000.log
  --overlay N  start N other nodes (2 to $OVERLAY_MAX) in the background, on ports $OVERLAY_BASE up
               (--base-port P: P up): node i is bootstrapped from node i-1 and keeps
               $OVERLAY_NEIGHBOURS neighbours, so gossip joins them and a search crosses hops.
               Node <port> shares $OVERLAY_DIR/shared/<port>/ (file-<port>.txt; the last
               node also far.txt; all but the first swarm.bin, 16 MiB, for
               'get swarm.bin'), keeps its state in $OVERLAY_DIR/state/<port>/; each
               start begins afresh (the last run moves to $OVERLAY_DIR.prev/). Commands
               and output as with --detach:
                   echo 'search far.txt' > $OVERLAY_DIR/$OVERLAY_BASE.in
                   tail -f $OVERLAY_DIR/$OVERLAY_BASE.log
  --dht        with --overlay: every node also joins a DHT (OpenDHT) on the UDP port of
               its own number, bootstrapped from the node before; 'search' then asks the
               DHT too, and 'dht' shows its state (docs/protocol.md, "The DHT")
  --stop       stop the demo, detached nodes, overlay nodes and tmux session alike; fine
               when none runs
  --reset      put the demo folders shared/<port>/ back as committed: removes what demos
               downloaded there, restores missing samples (with git). Alone it starts
               nothing; with --detach it runs before the start, with --stop after the stop.
  --help       this text

Environment: P2P_NODE=path/to/p2p-node runs that program instead of building
$BIN (no b2, no build packages; the tests use it).
EOF
}

say() { echo "run_nodes.sh: $*"; }
err() { echo "run_nodes.sh: $*" >&2; }

# Is $1 a live process whose command line contains $2?
is_proc() {
    [ -n "$1" ] && [ -r "/proc/$1/cmdline" ] && tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -q -- "$2"
}

read_pid() { cat "$1" 2>/dev/null; }

# Does something accept connections on $HOST:$1? (bash's /dev/tcp: no extra package needed)
port_busy() {
    timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$HOST" "$1" 2>/dev/null
}

have_tmux_session() {
    command -v tmux >/dev/null 2>&1 && tmux has-session -t "=$SESSION" 2>/dev/null
}

# running_in DIR PORT...: the ports whose detached node (pid in DIR/<port>.pid) still runs.
running_in() {
    local dir=$1 p out=()
    shift
    for p in "$@"; do
        is_proc "$(read_pid "$dir/$p.pid")" p2p-node && out+=("$p")
    done
    echo "${out[*]}"
}

# Ports of detached demo nodes that still run.
detached_running() { running_in "$DEMO_DIR" "${PORTS[@]}"; }

# The ports of the last overlay started (written before its first node starts).
overlay_ports() { cat "$OVERLAY_DIR/ports" 2>/dev/null; }

# install_and_build [EXTRA-PACKAGE...]: installs what is missing and builds $BIN, or, when
# P2P_NODE is set, checks that program and uses it instead.
install_and_build() {
    local prebuilt=${P2P_NODE:-} pkgs=("$@")
    if [ -z "$prebuilt" ] || [ ${#pkgs[@]} -gt 0 ]; then
        # shellcheck source=tools/deps.sh
        . tools/deps.sh
        [ -n "$prebuilt" ] || pkgs=("${BUILD_PACKAGES[@]}" "$@")
        if ! ensure_packages "${pkgs[@]}"; then
            err "could not install the packages needed: ${pkgs[*]}"
            err "install them as root (apt-get install ${pkgs[*]}) and run again."
            exit 1
        fi
    fi
    if [ -n "$prebuilt" ]; then
        if [ ! -f "$prebuilt" ] || [ ! -x "$prebuilt" ]; then
            err "P2P_NODE=$prebuilt is not an executable file."
            exit 1
        fi
        BIN=$prebuilt
        say "using $BIN (P2P_NODE); not building."
        return 0
    fi
    mkdir -p logs
    local jobs
    jobs=$(nproc 2>/dev/null || echo 2)
    say "building $BIN (b2 -j$jobs) ..."
    if ! b2 -j"$jobs" -d0 >logs/build.log 2>&1; then
        tail -40 logs/build.log
        err "the build failed (whole log: logs/build.log)."
        exit 1
    fi
    if [ ! -x "$BIN" ]; then
        err "the build succeeded but $BIN is missing (log: logs/build.log)."
        exit 1
    fi
}

in_samples() {
    local s
    for s in "${SAMPLES[@]}"; do [ "$s" = "$1" ] && return 0; done
    return 1
}

# Restores missing sample files from git when this is a git checkout.
restore_samples() {
    local f missing=()
    for f in "${SAMPLES[@]}"; do [ -f "$f" ] || missing+=("$f"); done
    [ ${#missing[@]} -eq 0 ] && return 0
    if command -v git >/dev/null 2>&1 && git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        git checkout -- "${missing[@]}" 2>/dev/null
    fi
    for f in "${missing[@]}"; do
        if [ -f "$f" ]; then say "restored $f"; else err "sample file $f is missing (not restorable without git)."; fi
    done
}

# The files in the demo folders that are not samples (e.g. downloaded by an earlier demo).
extra_files() {
    local p f
    for p in "${PORTS[@]}"; do
        for f in "shared/$p"/* "shared/$p"/.[!.]*; do
            [ -e "$f" ] || continue
            in_samples "$f" || echo "$f"
        done
    done
}

prepare_shared() {
    local p extra
    for p in "${PORTS[@]}"; do mkdir -p "shared/$p" || exit 1; done
    restore_samples
    extra=$(extra_files)
    if [ -n "$extra" ]; then
        say "note: besides the samples, the shared folders hold (from an earlier demo?):"
        echo "$extra" | sed 's/^/    /'
        say "'./run_nodes.sh --reset' removes them; 'request' does not overwrite a file that exists."
    fi
}

reset_shared() {
    local f n=0
    while IFS= read -r f; do
        [ -n "$f" ] || continue
        rm -rf -- "$f" && say "removed $f" && n=$((n + 1))
    done < <(extra_files)
    restore_samples
    say "shared/ reset: $n file(s) removed, ${#SAMPLES[@]} sample files in place."
}

# check_ports PORT...: exits, saying what listens there, when one of them is in use.
check_ports() {
    local p busy=()
    for p in "$@"; do port_busy "$p" && busy+=("$p"); done
    [ ${#busy[@]} -eq 0 ] && return 0
    err "port(s) already in use on $HOST: ${busy[*]}"
    if command -v ss >/dev/null 2>&1; then
        for p in "${busy[@]}"; do ss -Hltnp "sport = :$p" 2>/dev/null | sed 's/^/    /' >&2; done
    fi
    err "stop what listens there first (an earlier demo: ./run_nodes.sh --stop)."
    exit 1
}

# Fails when some demo already runs, saying how to stop it.
check_not_running() {
    local running
    running=$(detached_running)
    if [ -n "$running" ]; then
        err "demo nodes already run detached ($running; see $DEMO_DIR). Stop them: ./run_nodes.sh --stop"
        exit 1
    fi
    if have_tmux_session; then
        err "the tmux session '$SESSION' already runs. Attach: tmux attach -t $SESSION; stop: ./run_nodes.sh --stop"
        exit 1
    fi
}

# ---------------------------------------------------------------- detached mode

# fresh_dir DIR: moves an earlier DIR to DIR.prev (its logs stay readable), creates DIR.
fresh_dir() {
    if [ -d "$1" ]; then
        rm -rf "$1.prev" && mv "$1" "$1.prev"
    fi
    mkdir -p "$1" || exit 1
}

# spawn_node DIR PORT NODE-OPTION...: starts the node on PORT in the background, reading
# commands from the named pipe DIR/PORT.in, writing to DIR/PORT.log, its pid in DIR/PORT.pid.
spawn_node() {
    local dir=$1 p=$2 fifo=$1/$2.in
    shift 2
    mkfifo "$fifo" || { err "cannot create the named pipe $fifo"; return 1; }
    # The holder keeps the pipe open for writing, so the node never reads EOF (which would
    # make it quit) between two 'echo ... > $fifo'. Opened read-write, so the open never
    # blocks. setsid: neither process belongs to this terminal (no SIGHUP, no Ctrl-C).
    setsid sh -c 'echo $$ >"$0"; exec sleep infinity' "$dir/$p.holder.pid" \
        <>"$fifo" >/dev/null 2>&1 &
    setsid sh -c 'echo $$ >"$0"; exec "$@"' "$dir/$p.pid" "$BIN" --port "$p" "$@" \
        <"$fifo" >"$dir/$p.log" 2>&1 &
}

# wait_listening DIR PORT...: waits until each of these nodes printed "Node listening on",
# READY_SECONDS at most; says which exited or stayed silent, and returns 1 if any did.
wait_listening() {
    local dir=$1 p failed=() left deadline=$((SECONDS + READY_SECONDS))
    shift
    local pending=("$@")
    while [ ${#pending[@]} -gt 0 ] && [ $SECONDS -lt $deadline ]; do
        left=()
        for p in "${pending[@]}"; do
            if grep -q "Node listening on $HOST:$p" "$dir/$p.log" 2>/dev/null; then
                :
            elif [ -s "$dir/$p.pid" ] && ! is_proc "$(read_pid "$dir/$p.pid")" p2p-node; then
                failed+=("$p")
                err "node $p exited at once; its log:"
                tail -5 "$dir/$p.log" 2>/dev/null | sed 's/^/    /' >&2
            else
                left+=("$p")
            fi
        done
        pending=("${left[@]}")
        [ ${#pending[@]} -gt 0 ] && sleep 0.05
    done
    for p in "${pending[@]}"; do
        err "node $p did not report listening within ${READY_SECONDS}s; its log:"
        tail -5 "$dir/$p.log" 2>/dev/null | sed 's/^/    /' >&2
    done
    failed+=("${pending[@]}")
    [ ${#failed[@]} -eq 0 ]
}

# abort_start DIR PORT...: a start failed; stops the nodes it started and exits.
abort_start() {
    stop_nodes "$@" >/dev/null
    err "stopped the other nodes; logs kept in $1."
    exit 1
}

start_detached() {
    check_not_running
    check_ports "${PORTS[@]}"
    fresh_dir "$DEMO_DIR"
    local p
    for p in "${PORTS[@]}"; do
        spawn_node "$DEMO_DIR" "$p" || abort_start "$DEMO_DIR" "${PORTS[@]}"
    done
    wait_listening "$DEMO_DIR" "${PORTS[@]}" || abort_start "$DEMO_DIR" "${PORTS[@]}"
    cat <<EOF
Demo nodes ${PORTS[*]} run in the background, all listening on $HOST.
  folder:        $DEMO_DIR/   (<port>.in: commands in, <port>.log: output, <port>.pid)
  send commands: echo scan > $DEMO_DIR/5000.in
                 echo 'connect 5003' > $DEMO_DIR/5000.in
  read output:   cat $DEMO_DIR/5000.log     (or: tail -f $DEMO_DIR/5000.log)
  stop:          ./run_nodes.sh --stop
EOF
}

# stop_nodes DIR PORT...: ends these detached nodes: "quit" through each pipe, then TERM,
# then KILL; removes the pipes and pid files. Returns 1 when none of them was running.
stop_nodes() {
    local dir=$1 p pid found=()
    shift
    [ -d "$dir" ] || return 1
    for p in "$@"; do
        is_proc "$(read_pid "$dir/$p.pid")" p2p-node || continue
        found+=("$p")
        # 1<> opens read-write: never blocks, even when nothing reads the pipe any more.
        [ -p "$dir/$p.in" ] && timeout 2 bash -c 'echo quit 1<>"$0"' "$dir/$p.in" 2>/dev/null
    done
    local sig
    for sig in "" TERM KILL; do
        if [ -n "$sig" ]; then
            for p in "${found[@]}"; do
                pid=$(read_pid "$dir/$p.pid")
                is_proc "$pid" p2p-node && kill -"$sig" "$pid" 2>/dev/null && say "node $p did not quit; sent SIG$sig"
            done
        fi
        wait_gone "$dir" 5 "${found[@]}" && break
    done
    for p in "$@"; do
        pid=$(read_pid "$dir/$p.holder.pid")
        is_proc "$pid" sleep && kill "$pid" 2>/dev/null
        rm -f "$dir/$p.in" "$dir/$p.pid" "$dir/$p.holder.pid"
    done
    [ ${#found[@]} -eq 0 ] && return 1
    say "stopped detached node(s) ${found[*]}; logs kept in $dir/"
    return 0
}

# wait_gone DIR SECONDS PORT...: waits until none of these detached nodes runs.
wait_gone() {
    local dir=$1 deadline=$((SECONDS + $2)) p alive
    shift 2
    while :; do
        alive=0
        for p in "$@"; do is_proc "$(read_pid "$dir/$p.pid")" p2p-node && alive=1; done
        [ $alive -eq 0 ] && return 0
        [ $SECONDS -ge $deadline ] && return 1
        sleep 0.2
    done
}

stop_detached() { stop_nodes "$DEMO_DIR" "${PORTS[@]}"; }

# ---------------------------------------------------------------- overlay mode

# Fails when the overlay already runs, saying how to stop it.
check_overlay_not_running() {
    local running
    # shellcheck disable=SC2046  # the ports are words
    running=$(running_in "$OVERLAY_DIR" $(overlay_ports))
    if [ -n "$running" ]; then
        err "overlay nodes already run ($running; see $OVERLAY_DIR). Stop them: ./run_nodes.sh --stop"
        exit 1
    fi
}

# start_overlay N BASE: nodes BASE..BASE+N-1, each bootstrapped from the one before, started
# one after the other so that each one's bootstrap node already listens.
start_overlay() {
    local n=$1 base=$2 dht=$3 ports=() i p args
    for ((i = 0; i < n; i++)); do ports+=($((base + i))); done
    local first=${ports[0]} last=${ports[n - 1]}
    check_overlay_not_running
    check_ports "${ports[@]}"
    fresh_dir "$OVERLAY_DIR"
    echo "${ports[*]}" >"$OVERLAY_DIR/ports" || exit 1
    # The same 16 MiB on every node: 'get swarm.bin' fetches it from all of them at once.
    head -c $((16 * 1024 * 1024)) /dev/urandom >"$OVERLAY_DIR/swarm.bin" || abort_start "$OVERLAY_DIR" "${ports[@]}"
    for i in "${!ports[@]}"; do
        p=${ports[$i]}
        mkdir -p "$OVERLAY_DIR/shared/$p" "$OVERLAY_DIR/state/$p" || abort_start "$OVERLAY_DIR" "${ports[@]}"
        echo "file-$p.txt: shared by node $p of the overlay demo." >"$OVERLAY_DIR/shared/$p/file-$p.txt"
        [ "$p" = "$last" ] && echo "far.txt: only node $p, the last one, shares it." >"$OVERLAY_DIR/shared/$p/far.txt"
        [ "$i" -gt 0 ] && { ln "$OVERLAY_DIR/swarm.bin" "$OVERLAY_DIR/shared/$p/swarm.bin" || abort_start "$OVERLAY_DIR" "${ports[@]}"; }
        args=(--shared "$OVERLAY_DIR/shared/$p" --state "$OVERLAY_DIR/state/$p" --neighbours "$OVERLAY_NEIGHBOURS")
        [ "$i" -gt 0 ] && args+=(--bootstrap "$HOST:${ports[i - 1]}")
        # The DHT on the UDP port of the node's number: its neighbour in the line is its bootstrap.
        [ "$dht" = 1 ] && args+=(--dht "$p")
        [ "$dht" = 1 ] && [ "$i" -gt 0 ] && args+=(--dht-bootstrap "$HOST:${ports[i - 1]}")
        spawn_node "$OVERLAY_DIR" "$p" "${args[@]}" || abort_start "$OVERLAY_DIR" "${ports[@]}"
        wait_listening "$OVERLAY_DIR" "$p" || abort_start "$OVERLAY_DIR" "${ports[@]}"
    done
    cat <<EOF
Overlay nodes $first-$last ($n) run in the background on $HOST, each bootstrapped from the
one before; gossip tells each about the others within seconds.
  folder:        $OVERLAY_DIR/   (<port>.in: commands in, <port>.log: output, <port>.pid;
                 shared/<port>/ holds file-<port>.txt, far.txt on $last only, and
                 swarm.bin on every node but $first)
  send commands: echo peers > $OVERLAY_DIR/$first.in
                 echo 'search far.txt' > $OVERLAY_DIR/$first.in
                 echo 'get swarm.bin' > $OVERLAY_DIR/$first.in
  read output:   tail -f $OVERLAY_DIR/$first.log
  stop:          ./run_nodes.sh --stop
EOF
    [ "$dht" = 1 ] && cat <<EOF
  DHT:           UDP ports $first-$last, each bootstrapped from the one before;
                 echo dht > $OVERLAY_DIR/$first.in   (its state)
EOF
    return 0
}

# Returns 1 when no overlay node was running.
stop_overlay() {
    local ports=()
    read -ra ports < <(overlay_ports)
    [ ${#ports[@]} -gt 0 ] || return 1
    stop_nodes "$OVERLAY_DIR" "${ports[@]}"
}

# ---------------------------------------------------------------- tmux mode

# One pane: the node, then a line saying it ended, so its last output stays readable.
PANE_SCRIPT='"$1" --port "$2"; s=$?; echo; echo "[node $2 exited with status $s; press Enter to close this pane]"; read -r _'

attach_tmux() {
    if [ -n "${TMUX:-}" ]; then
        tmux switch-client -t "=$SESSION"
    else
        tmux attach-session -t "=$SESSION"
        if have_tmux_session; then
            echo "Detached from tmux session '$SESSION'; the nodes still run."
            echo "  back to them: ./run_nodes.sh (or tmux attach -t $SESSION)   stop: ./run_nodes.sh --stop"
        else
            echo "The tmux session '$SESSION' has ended."
        fi
    fi
}

start_tmux() {
    if have_tmux_session; then
        say "the tmux session '$SESSION' already runs; attaching to it (stop it: ./run_nodes.sh --stop)."
        sleep 1
        attach_tmux
        return
    fi
    check_not_running
    check_ports "${PORTS[@]}"
    local cols lines p pane panes=()
    cols=$(tput cols 2>/dev/null || echo 160)
    lines=$(tput lines 2>/dev/null || echo 48)
    pane=$(tmux new-session -d -P -F '#{pane_id}' -s "$SESSION" -n nodes -x "$cols" -y "$lines" \
               -c "$PWD" bash -c "$PANE_SCRIPT" bash "$BIN" "${PORTS[0]}") || { err "tmux new-session failed"; exit 1; }
    panes+=("$pane")
    for p in "${PORTS[@]:1}"; do
        pane=$(tmux split-window -P -F '#{pane_id}' -t "=$SESSION:nodes" -c "$PWD" \
                   bash -c "$PANE_SCRIPT" bash "$BIN" "$p") || { err "tmux split-window failed"; exit 1; }
        panes+=("$pane")
        tmux select-layout -t "=$SESSION:nodes" tiled >/dev/null
    done
    local i
    for i in "${!PORTS[@]}"; do tmux select-pane -t "${panes[$i]}" -T "node ${PORTS[$i]}"; done
    tmux set-option -t "$SESSION" mouse on >/dev/null
    tmux set-option -t "$SESSION" status-right " Ctrl-b o: next pane | Ctrl-b d: detach " >/dev/null
    tmux set-option -t "$SESSION" status-right-length 60 >/dev/null
    tmux set-window-option -t "=$SESSION:nodes" pane-border-status top >/dev/null
    tmux set-window-option -t "=$SESSION:nodes" pane-border-format ' #{pane_title} ' >/dev/null
    tmux select-pane -t "${panes[0]}"

    # Wait until every pane shows its node listening.
    local deadline=$((SECONDS + READY_SECONDS)) ok
    for i in "${!PORTS[@]}"; do
        ok=0
        while [ $SECONDS -lt $deadline ]; do
            tmux capture-pane -p -J -S - -t "${panes[$i]}" 2>/dev/null | grep -q "Node listening on $HOST:${PORTS[$i]}" && { ok=1; break; }
            sleep 0.2
        done
        [ $ok -eq 1 ] || err "node ${PORTS[$i]} did not report listening within ${READY_SECONDS}s; see its pane."
    done
    say "tmux session '$SESSION': nodes ${PORTS[*]}, one per pane. Ctrl-b o: next pane, Ctrl-b d: detach."
    attach_tmux
}

# Does a node still run in a pane? (each pane's bash runs its node as a child)
tmux_nodes_alive() {
    local pid child
    for pid in $(tmux list-panes -s -t "=$SESSION" -F '#{pane_pid}' 2>/dev/null); do
        for child in $(cat "/proc/$pid/task/$pid/children" 2>/dev/null); do
            is_proc "$child" p2p-node && return 0
        done
    done
    return 1
}

stop_tmux() {
    have_tmux_session || return 1
    local pane
    # 'quit' in every pane first, so each node closes its sockets as in the lab.
    for pane in $(tmux list-panes -s -t "=$SESSION" -F '#{pane_id}' 2>/dev/null); do
        tmux send-keys -t "$pane" quit Enter 2>/dev/null
    done
    local deadline=$((SECONDS + 3))
    while [ $SECONDS -lt $deadline ] && tmux_nodes_alive; do sleep 0.2; done
    tmux kill-session -t "=$SESSION" 2>/dev/null
    say "tmux session '$SESSION' stopped"
    return 0
}

stop_all() {
    local stopped=0 overlay
    overlay=$(overlay_ports)
    stop_detached && stopped=1
    stop_overlay && stopped=1
    stop_tmux && stopped=1
    [ $stopped -eq 1 ] || say "nothing to stop: no detached demo or overlay node runs and there is no tmux session '$SESSION'."
    local p busy=()
    for p in "${PORTS[@]}" $overlay; do port_busy "$p" && busy+=("$p"); done
    [ ${#busy[@]} -eq 0 ] || say "note: port(s) ${busy[*]} still in use by something this script did not start."
    return 0
}

# ---------------------------------------------------------------- main

# All of it in a function, so bash has read the whole file before running it (editing or
# pulling this file while a tmux attach is running in it does not break the rest of the run).
# in_range VALUE LO HI: is VALUE a decimal number from LO to HI?
in_range() {
    [[ $1 =~ ^[0-9]{1,6}$ ]] && [ $((10#$1)) -ge "$2" ] && [ $((10#$1)) -le "$3" ]
}

main() {
    local mode="" reset=0 count="" base="" dht=0 arg
    while [ $# -gt 0 ]; do
        arg=$1
        shift
        case "$arg" in
            -h|--help) usage; exit 0 ;;
            --overlay=*|--base-port=*) set -- "${arg%%=*}" "${arg#*=}" "$@" ;;
            --detach|--stop|--overlay)
                if [ -n "$mode" ] && [ "$mode" != "${arg#--}" ]; then
                    err "--detach, --stop and --overlay exclude each other."; exit 2
                fi
                mode=${arg#--}
                if [ "$mode" = overlay ]; then
                    if [ $# -eq 0 ] || ! in_range "$1" 2 "$OVERLAY_MAX"; then
                        err "--overlay needs a number of nodes from 2 to $OVERLAY_MAX${1:+, not '$1'}."; exit 2
                    fi
                    count=$((10#$1))
                    shift
                fi ;;
            --base-port)
                [ $# -gt 0 ] || { err "--base-port needs a port."; exit 2; }
                base=$1
                shift ;;
            --reset) reset=1 ;;
            --dht) dht=1 ;;
            *) err "unknown option '$arg'. Usage: ./run_nodes.sh [--detach] [--overlay N [--base-port P] [--dht]] [--stop] [--reset] [--help]"; exit 2 ;;
        esac
    done

    if [ "$mode" = overlay ]; then
        [ $reset -eq 0 ] || { err "--reset is for the demo's shared/ folders; --overlay always starts with fresh ones."; exit 2; }
        base=${base:-$OVERLAY_BASE}
        if ! in_range "$base" 1024 $((65536 - count)); then
            err "--base-port needs a port from 1024 to $((65536 - count)) ($count nodes use $count ports from it), not '$base'."; exit 2
        fi
        check_overlay_not_running
        install_and_build
        start_overlay "$count" $((10#$base)) "$dht"
        exit 0
    fi
    [ -z "$base" ] || { err "--base-port goes with --overlay N."; exit 2; }
    [ "$dht" = 0 ] || { err "--dht goes with --overlay N."; exit 2; }

    case "$mode" in
        stop)
            stop_all
            [ $reset -eq 1 ] && reset_shared
            exit 0 ;;
        "")
            if [ $reset -eq 1 ]; then reset_shared; exit 0; fi
            if [ -t 0 ] && [ -t 1 ]; then
                mode=tmux
            else
                say "no terminal: starting the nodes detached (as --detach)."
                mode=detach
            fi ;;
    esac

    if [ "$mode" = tmux ]; then
        have_tmux_session && { start_tmux; exit 0; }   # attach to the running demo, nothing to build
        install_and_build tmux
        prepare_shared
        start_tmux
    else
        check_not_running
        install_and_build
        [ $reset -eq 1 ] && reset_shared
        prepare_shared
        start_detached
    fi
}

main "$@"
exit $?

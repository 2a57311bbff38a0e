#!/usr/bin/env bash
# shellcheck disable=SC2016  # the single-quoted scripts are expanded by the inner shell
# run_nodes.sh: builds p2p-node and starts the lab's demo, nodes 5000, 5003, 5005 and 5009 on
# 127.0.0.1, each sharing shared/<port>. In tmux panes on a terminal, else detached with named
# pipes for input. See usage() below, or ./run_nodes.sh --help.
set -u
cd "$(dirname "$0")" || exit 1

PORTS=(5000 5003 5005 5009)
HOST=127.0.0.1                 # the node's default --host
SESSION=p2p-demo               # the tmux session
BIN=stage/p2p-node
DEMO_DIR=logs/demo             # detached mode: <port>.in (FIFO), <port>.log, <port>.pid
READY_SECONDS=10               # how long a node may take to print "Node listening on ..."
# The committed sample files. --reset keeps these and removes everything else in shared/<port>/.
SAMPLES=(shared/5000/hello.txt
         shared/5003/SkyShip.jpg
         shared/5005/Mountains.jpg shared/5005/notes.txt
         shared/5009/SkyShip.jpg shared/5009/Lighthouse.jpg)

usage() {
    cat <<EOF
Usage: ./run_nodes.sh [--detach [--reset] | --stop [--reset] | --reset | --help]

Builds $BIN (installing the Debian packages it needs when they are missing) and
starts the lab's demo: nodes ${PORTS[*]} on $HOST, each sharing shared/<port>.

  (no option)  on a terminal: tmux session "$SESSION", four panes, one node in each; type
               the lab's commands (help, scan, connect 5003, lp, sf SkyShip.jpg, ...) in a pane.
               Ctrl-b o or a mouse click moves between panes, Ctrl-b d detaches.
               Without a terminal this is --detach.
  --detach     start the nodes in the background. Each reads commands from the named pipe
               $DEMO_DIR/<port>.in and writes to $DEMO_DIR/<port>.log:
                   echo lp > $DEMO_DIR/5000.in; cat $DEMO_DIR/5000.log
  --stop       stop the demo, detached nodes and tmux session alike; fine when none runs
  --reset      put the demo folders shared/<port>/ back as committed: removes what demos
               downloaded there, restores missing samples (with git). Alone it starts
               nothing; with --detach it runs before the start, with --stop after the stop.
  --help       this text
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

# Ports of detached demo nodes that still run.
detached_running() {
    local p out=()
    for p in "${PORTS[@]}"; do
        is_proc "$(read_pid "$DEMO_DIR/$p.pid")" p2p-node && out+=("$p")
    done
    echo "${out[*]}"
}

install_and_build() {
    # shellcheck source=tools/deps.sh
    . tools/deps.sh
    local pkgs=("${BUILD_PACKAGES[@]}" "$@")
    if ! ensure_packages "${pkgs[@]}"; then
        err "could not install the packages needed: ${pkgs[*]}"
        err "install them as root (apt-get install ${pkgs[*]}) and run again."
        exit 1
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

check_ports() {
    local p busy=()
    for p in "${PORTS[@]}"; do port_busy "$p" && busy+=("$p"); done
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

start_detached() {
    check_not_running
    check_ports
    if [ -d "$DEMO_DIR" ]; then
        rm -rf "$DEMO_DIR.prev" && mv "$DEMO_DIR" "$DEMO_DIR.prev"
    fi
    mkdir -p "$DEMO_DIR" || exit 1
    local p fifo
    for p in "${PORTS[@]}"; do
        fifo="$DEMO_DIR/$p.in"
        mkfifo "$fifo" || { err "cannot create the named pipe $fifo"; exit 1; }
        # The holder keeps the pipe open for writing, so the node never reads EOF (which would
        # make it quit) between two 'echo ... > $fifo'. Opened read-write, so the open never
        # blocks. setsid: neither process belongs to this terminal (no SIGHUP, no Ctrl-C).
        setsid sh -c 'echo $$ >"$0"; exec sleep infinity' "$DEMO_DIR/$p.holder.pid" \
            <>"$fifo" >/dev/null 2>&1 &
        setsid sh -c 'echo $$ >"$0"; exec "$1" --port "$2"' "$DEMO_DIR/$p.pid" "$BIN" "$p" \
            <"$fifo" >"$DEMO_DIR/$p.log" 2>&1 &
    done

    # Wait until every node listens, or has died.
    local pending=("${PORTS[@]}") failed=() left deadline=$((SECONDS + READY_SECONDS))
    while [ ${#pending[@]} -gt 0 ] && [ $SECONDS -lt $deadline ]; do
        left=()
        for p in "${pending[@]}"; do
            if grep -q "Node listening on $HOST:$p" "$DEMO_DIR/$p.log" 2>/dev/null; then
                :
            elif [ -s "$DEMO_DIR/$p.pid" ] && ! is_proc "$(read_pid "$DEMO_DIR/$p.pid")" p2p-node; then
                failed+=("$p")
                err "node $p exited at once; its log:"
                tail -5 "$DEMO_DIR/$p.log" 2>/dev/null | sed 's/^/    /' >&2
            else
                left+=("$p")
            fi
        done
        pending=("${left[@]}")
        [ ${#pending[@]} -gt 0 ] && sleep 0.2
    done
    for p in "${pending[@]}"; do
        err "node $p did not report listening within ${READY_SECONDS}s; its log:"
        tail -5 "$DEMO_DIR/$p.log" 2>/dev/null | sed 's/^/    /' >&2
    done
    failed+=("${pending[@]}")
    if [ ${#failed[@]} -gt 0 ]; then
        stop_detached >/dev/null
        err "stopped the other nodes; logs kept in $DEMO_DIR."
        exit 1
    fi
    cat <<EOF
Demo nodes ${PORTS[*]} run in the background, all listening on $HOST.
  folder:        $DEMO_DIR/   (<port>.in: commands in, <port>.log: output, <port>.pid)
  send commands: echo scan > $DEMO_DIR/5000.in
                 echo 'connect 5003' > $DEMO_DIR/5000.in
  read output:   cat $DEMO_DIR/5000.log     (or: tail -f $DEMO_DIR/5000.log)
  stop:          ./run_nodes.sh --stop
EOF
}

# Ends the detached nodes: "quit" through each pipe, then TERM, then KILL; removes the pipes.
# Returns 1 when no detached node was running.
stop_detached() {
    local p pid found=()
    [ -d "$DEMO_DIR" ] || return 1
    for p in "${PORTS[@]}"; do
        is_proc "$(read_pid "$DEMO_DIR/$p.pid")" p2p-node || continue
        found+=("$p")
        # 1<> opens read-write: never blocks, even when nothing reads the pipe any more.
        [ -p "$DEMO_DIR/$p.in" ] && timeout 2 bash -c 'echo quit 1<>"$0"' "$DEMO_DIR/$p.in" 2>/dev/null
    done
    local sig
    for sig in "" TERM KILL; do
        if [ -n "$sig" ]; then
            for p in "${found[@]}"; do
                pid=$(read_pid "$DEMO_DIR/$p.pid")
                is_proc "$pid" p2p-node && kill -"$sig" "$pid" 2>/dev/null && say "node $p did not quit; sent SIG$sig"
            done
        fi
        wait_gone 5 "${found[@]}" && break
    done
    for p in "${PORTS[@]}"; do
        pid=$(read_pid "$DEMO_DIR/$p.holder.pid")
        is_proc "$pid" sleep && kill "$pid" 2>/dev/null
        rm -f "$DEMO_DIR/$p.in" "$DEMO_DIR/$p.pid" "$DEMO_DIR/$p.holder.pid"
    done
    [ ${#found[@]} -eq 0 ] && return 1
    say "stopped detached node(s) ${found[*]}; logs kept in $DEMO_DIR/"
    return 0
}

# wait_gone SECONDS PORT...: waits until none of these detached nodes runs.
wait_gone() {
    local deadline=$((SECONDS + $1)) p alive
    shift
    while :; do
        alive=0
        for p in "$@"; do is_proc "$(read_pid "$DEMO_DIR/$p.pid")" p2p-node && alive=1; done
        [ $alive -eq 0 ] && return 0
        [ $SECONDS -ge $deadline ] && return 1
        sleep 0.2
    done
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
    check_ports
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
    local stopped=0
    stop_detached && stopped=1
    stop_tmux && stopped=1
    [ $stopped -eq 1 ] || say "nothing to stop: no detached demo node runs and there is no tmux session '$SESSION'."
    local p busy=()
    for p in "${PORTS[@]}"; do port_busy "$p" && busy+=("$p"); done
    [ ${#busy[@]} -eq 0 ] || say "note: port(s) ${busy[*]} still in use by something this script did not start."
    return 0
}

# ---------------------------------------------------------------- main

# All of it in a function, so bash has read the whole file before running it (editing or
# pulling this file while a tmux attach is running in it does not break the rest of the run).
main() {
    local mode="" reset=0 arg
    for arg in "$@"; do
        case "$arg" in
            -h|--help) usage; exit 0 ;;
            --detach|--stop)
                if [ -n "$mode" ] && [ "$mode" != "${arg#--}" ]; then
                    err "--detach and --stop exclude each other."; exit 2
                fi
                mode=${arg#--} ;;
            --reset) reset=1 ;;
            *) err "unknown option '$arg'. Usage: ./run_nodes.sh [--detach] [--stop] [--reset] [--help]"; exit 2 ;;
        esac
    done

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

#!/usr/bin/env python3
"""Search latency under load, for bench/transfer.sh.

Starts one peer (our node, or the lab's Python peer) serving FILE, runs the C++ load client
(bench/search_client.cpp: CLIENTS connections, each "SRCH <file>\n" then the whole answer,
then the next, for SECONDS after a 0.5 s warm-up), and reads the peer's CPU time over the
measured window and its peak RSS (VmHWM) afterwards. Prints one line of JSON.
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peer_transfer import free_port, vm_hwm_kib, wait_listening  # noqa: E402

WARMUP = 0.5


def cpu_seconds(pid):
    """utime + stime of a process, all its threads, in seconds."""
    with open(f'/proc/{pid}/stat') as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def main():
    ap = argparse.ArgumentParser(description='SRCH latency with many concurrent peers')
    ap.add_argument('--peer', choices=['node', 'lab'], default='node')
    ap.add_argument('--dir', required=True, help='shared folder holding FILE')
    ap.add_argument('--file', required=True)
    ap.add_argument('--clients', type=int, default=100)
    ap.add_argument('--seconds', type=float, default=5)
    ap.add_argument('--client', required=True, help='the built bench/search_client.cpp')
    ap.add_argument('--node', default='stage/p2p-node')
    ap.add_argument('--lab', default=os.path.join(os.path.dirname(__file__), '..', 'test', 'lab_peer.py'))
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    port = free_port()
    if args.peer == 'node':
        # The default cap (--max-peers 64) would answer "busy" to 36 of the 100 peers.
        cmd = [args.node, '--port', str(port), '--shared', args.dir, '--quiet',
               '--max-peers', str(args.clients + 16)]
    else:
        cmd = [sys.executable, args.lab, str(port), args.dir]
    peer = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    client = None
    try:
        wait_listening(port, peer)
        client = subprocess.Popen([args.client, str(port), args.file, str(args.clients),
                                   str(WARMUP), str(args.seconds)], stdout=subprocess.PIPE)
        ready = client.stdout.readline().decode()  # "connected N": the warm-up starts now
        if not ready.startswith('connected'):
            raise RuntimeError('search client could not connect')
        # The peer's CPU time over (about) the measured window.
        time.sleep(WARMUP + 0.1)
        cpu0, wall0 = cpu_seconds(peer.pid), time.monotonic()
        time.sleep(args.seconds - 0.2)
        cpu1, wall1 = cpu_seconds(peer.pid), time.monotonic()
        out, _ = client.communicate(timeout=args.seconds + 60)
        out = out.decode().strip().splitlines()[-1]
        if client.returncode != 0:
            raise RuntimeError(f'search client exited with {client.returncode}')
        result = json.loads(out)
        result.update({
            'peer': args.peer, 'clients': args.clients, 'seconds': args.seconds,
            'rss_kib': vm_hwm_kib(peer.pid),
            'peer_cpu_share': (cpu1 - cpu0) / (wall1 - wall0),
        })
        result['peer_cpu_us_per_request'] = (
            result['peer_cpu_share'] / result['rps'] * 1e6 if result['rps'] else -1)
        print(json.dumps(result))
        return 0
    except Exception as e:
        print(json.dumps({'error': f'{type(e).__name__}: {e}'}))
        return 1
    finally:
        if client and client.poll() is None:
            client.kill()
            client.wait()
        if peer.poll() is None:
            try:
                peer.stdin.write(b'quit\n')
                peer.stdin.close()
                peer.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                peer.kill()
                peer.wait()


if __name__ == '__main__':
    sys.exit(main())

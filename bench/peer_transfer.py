#!/usr/bin/env python3
"""One timed download between two peer processes, for bench/transfer.sh.

Starts a sender and a receiver (each our node or the lab's Python peer) on free ports of
127.0.0.1, feeds the receiver's console `connect <sender>`, then `request <file> <sender>`
REQUESTS times (the received copy is deleted between requests), and reads VmHWM (peak RSS)
of both processes from /proc just before `quit`. A request's time runs from writing the
`request` line to reading the "... bytes received." line; `sync` runs before each request,
outside the timing, so no earlier run's dirty pages are written back during this one.

With --relay (two of our nodes), the receiver connects to bench/hello_relay.py instead, which
forwards to the sender: `plain` removes tls/1 from both HELLOs, so the nodes run the extension
in plain bytes; `tls` changes nothing (the same hop, TLS as always). The relay's report is
checked: the requester's first bytes after the HELLOs must be a TLS record (tls) or not (plain).
Each node gets a fresh state folder (identity, pins) in a temporary folder, deleted at the end.

Prints one line of JSON: {"seconds": [...], "rss_send_kib": N, "rss_recv_kib": N, ...}.
Every process it starts is ended before it returns, also on SIGTERM.
"""
import argparse
import json
import os
import queue
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time


def free_port():
    """A port that is free on 127.0.0.1 right now (bind test), outside the ephemeral range."""
    for _ in range(200):
        port = random.randint(20000, 30999)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(('127.0.0.1', port))
                return port
            except OSError:
                continue
    raise RuntimeError('no free port found')


def wait_listening(port, proc, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f'peer on port {port} exited with {proc.returncode}')
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            if s.connect_ex(('127.0.0.1', port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f'nothing listens on port {port}')


def vm_hwm_kib(pid):
    with open(f'/proc/{pid}/status') as f:
        for line in f:
            if line.startswith('VmHWM:'):
                return int(line.split()[1])
    return -1


def drop_caches():
    os.sync()
    with open('/proc/sys/vm/drop_caches', 'w') as f:
        f.write('3\n')


class Peer:
    """One peer process with its console on pipes; stdout lines arrive timestamped in a queue."""

    def __init__(self, kind, port, shared, node, lab, log, state_root=None, extra=(), quiet=True):
        """A node gets `extra` options; quiet=False keeps its server lines (bench/swarm.py reads them)."""
        if kind == 'node':
            cmd = [node, '--port', str(port), '--shared', shared] + (['--quiet'] if quiet else []) + list(extra)
            if state_root:
                cmd += ['--state', os.path.join(state_root, str(port))]
        else:
            cmd = [sys.executable, lab, str(port), shared]
        self.log = log
        self.history = []  # every line read so far, in order
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, bufsize=0)
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for raw in iter(self.proc.stdout.readline, b''):
            now = time.monotonic()
            line = raw.decode(errors='replace').rstrip('\n')
            if self.log:
                self.log.write(line + '\n')
            self.history.append(line)
            self.lines.put((now, line))
        self.lines.put((time.monotonic(), None))

    def send(self, text):
        self.proc.stdin.write((text + '\n').encode())
        self.proc.stdin.flush()

    def expect(self, needle, timeout, fail=()):
        """Waits for a line containing `needle`; returns its arrival time."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RuntimeError(f'timed out waiting for {needle!r}')
            try:
                stamp, line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                raise RuntimeError(f'peer exited while waiting for {needle!r}')
            if needle in line:
                return stamp, line
            for bad in fail:
                if bad in line:
                    raise RuntimeError(f'{line.strip()!r} while waiting for {needle!r}')

    def stop(self):
        if self.proc.poll() is None:
            try:
                self.send('quit')
                self.proc.stdin.close()
            except OSError:
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def main():
    ap = argparse.ArgumentParser(description='one timed download between two peers')
    ap.add_argument('--sender', choices=['node', 'lab'], required=True)
    ap.add_argument('--receiver', choices=['node', 'lab'], required=True)
    ap.add_argument('--send-dir', required=True, help='sender shared folder (holds FILE)')
    ap.add_argument('--recv-dir', required=True, help='receiver shared folder (empty)')
    ap.add_argument('--file', required=True, help='file name inside the sender folder')
    ap.add_argument('--node', default='stage/p2p-node')
    ap.add_argument('--lab', default=os.path.join(os.path.dirname(__file__), '..', 'test', 'lab_peer.py'))
    ap.add_argument('--requests', type=int, default=1)
    ap.add_argument('--timeout', type=float, default=600, help='seconds per request, at most')
    ap.add_argument('--drop-caches', action='store_true')
    ap.add_argument('--log', help='append both consoles here')
    ap.add_argument('--relay', choices=['plain', 'tls'],
                    help='node -> node through bench/hello_relay.py: plain (tls/1 removed) or tls')
    args = ap.parse_args()

    # SIGTERM (from `timeout` or the script's cleanup) unwinds through the finally below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    source = os.path.join(args.send_dir, args.file)
    size = os.path.getsize(source)
    received = os.path.join(args.recv_dir, args.file)
    log = open(args.log, 'a') if args.log else None
    peers = []
    relay = None
    states = tempfile.TemporaryDirectory(prefix='p2p-state.')
    if args.relay and (args.sender, args.receiver) != ('node', 'node'):
        ap.error('--relay is for node -> node only')
    try:
        sport, rport = free_port(), free_port()
        while rport == sport:
            rport = free_port()
        sender = Peer(args.sender, sport, args.send_dir, args.node, args.lab, log, states.name)
        peers.append(sender)
        wait_listening(sport, sender.proc)
        receiver = Peer(args.receiver, rport, args.recv_dir, args.node, args.lab, log, states.name)
        peers.append(receiver)
        wait_listening(rport, receiver.proc)
        target = sport
        if args.relay:
            target = free_port()
            while target in (sport, rport):
                target = free_port()
            report = os.path.join(states.name, 'relay.jsonl')
            relay = subprocess.Popen(
                [sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'hello_relay.py'),
                 str(target), str(sport), '--report', report] + (['--strip-tls'] if args.relay == 'plain' else []),
                stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
            if relay.stdout.readline().strip() != b'ready':
                raise RuntimeError('the relay did not start')
        receiver.send(f'connect {target}')
        receiver.expect(f'Peer {target} connected.', 15, fail=('inactive', 'refused'))
        seconds, verified = [], []
        bad = ('not found', 'disconnected', 'failed', 'stalled', 'invalid', 'Could not',
               'already exists', 'NOT connected', 'Request failed')
        for _ in range(args.requests):
            if os.path.exists(received):
                os.unlink(received)
            if args.drop_caches:
                drop_caches()
            else:
                os.sync()
            t0 = time.monotonic()
            receiver.send(f'request {args.file} {target}')
            t1, line = receiver.expect('bytes received.', args.timeout, fail=bad)
            seconds.append(t1 - t0)
            if args.receiver == 'node' and args.sender == 'node':
                receiver.expect('SHA-256 verified.', 15)
                verified.append(True)
            if subprocess.run(['cmp', '-s', source, received]).returncode != 0:
                raise RuntimeError('the received copy differs from the source')
        rss_send, rss_recv = vm_hwm_kib(sender.proc.pid), vm_hwm_kib(receiver.proc.pid)
        result = {'seconds': seconds, 'rss_send_kib': rss_send, 'rss_recv_kib': rss_recv,
                  'bytes': size, 'sha256_verified': bool(verified) and all(verified)}
        if relay:
            result['rss_relay_kib'] = vm_hwm_kib(relay.pid)
            relay.terminate()
            relay.wait(timeout=10)
            with open(report) as f:
                conns = [json.loads(line) for line in f]
            # The console's connection carried the file; overlay links may have passed too.
            carrier = max(conns, key=lambda c: c['bytes_to_requester'])
            if carrier['after_hello'] != args.relay or carrier['bytes_to_requester'] < size * args.requests:
                raise RuntimeError(f'the relay saw {carrier}, not a {args.relay} transfer')
            result['relay'] = carrier
        print(json.dumps(result))
        return 0
    except Exception as e:  # one line for the script's log; the finally ends the peers
        print(json.dumps({'error': str(e)}))
        return 1
    finally:
        if relay and relay.poll() is None:
            relay.terminate()
            relay.wait()
        for p in reversed(peers):
            p.stop()
        states.cleanup()
        if os.path.exists(received):
            os.unlink(received)
        if log:
            log.close()


if __name__ == '__main__':
    sys.exit(main())

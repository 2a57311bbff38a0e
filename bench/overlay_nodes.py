#!/usr/bin/env python3
"""The instruments of bench/overlay_search.py: our nodes on pipes, the wire, silent ports.

- Consoles: one thread reads every node's stdout; each line is kept with the time it was read
  (time.monotonic), so a console line can be timed against the moment a command was written.
- Node: one p2p-node under `timeout`, with --port 0 and folders of its own; console commands,
  waiting for a line, `peers` parsed.
- Sniffer: an AF_PACKET socket on the loopback device counting QUERY and HIT lines per file
  name (root only; loopback shows every packet twice, only the outgoing copy is counted).
- SilentPorts: ports of 127.0.0.1 that never answer a SYN (as test/support.cpp SilentPorts).
"""
import collections
import os
import random
import re
import selectors
import socket
import struct
import subprocess
import threading
import time

PEER_LINE = re.compile(r'^(\S+)  (?:connected|-)  (neighbour|-)  last seen')
HANDLED = re.compile(r'^Query for (\S+) from \S+ \((\d+) hops?\): ')
WIRE = re.compile(rb'(QUERY [0-9a-f]+ \d+ \d+|HIT [0-9a-f]+ \d+ \S+) ([^\s]+)\n')
SOL_PACKET, PACKET_STATISTICS = 263, 6  # <linux/if_packet.h>; not in Python's socket module


class Consoles:
    """Reads every node's stdout in one thread; each line is kept with the time it was read."""

    def __init__(self):
        self.selector = selectors.DefaultSelector()
        self.cond = threading.Condition()
        self.wake_r, self.wake_w = os.pipe()
        self.selector.register(self.wake_r, selectors.EVENT_READ, None)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def add(self, node):
        with self.cond:
            self.selector.register(node.proc.stdout, selectors.EVENT_READ, node)
        os.write(self.wake_w, b'x')

    def _run(self):
        while True:
            for key, _ in self.selector.select():
                if key.data is None:
                    os.read(self.wake_r, 64)
                    continue
                node = key.data
                data = os.read(key.fd, 65536)
                now = time.monotonic()
                with self.cond:
                    if not data:
                        self.selector.unregister(key.fileobj)
                        node.ended = True
                    else:
                        node.pending += data.decode(errors='replace')
                        *complete, node.pending = node.pending.split('\n')
                        for line in complete:
                            while line.startswith('>:'):  # the prompt, written before each command
                                line = line[2:]
                            node.lines.append((now, line))
                    self.cond.notify_all()


class Node:
    """One p2p-node under `timeout`, with its console on pipes."""

    def __init__(self, consoles, args, folder, extra):
        self.consoles, self.lines, self.pending, self.ended = consoles, [], '', False
        self.shared = os.path.join(folder, 'shared')
        os.makedirs(self.shared)
        os.makedirs(os.path.join(folder, 'state'))
        cmd = ['timeout', '-k', '5', str(args.node_limit), args.node, '--port', '0',
               '--shared', self.shared, '--state', os.path.join(folder, 'state')] + extra
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, bufsize=0)
        consoles.add(self)
        _, _, line = self.wait_line(lambda l: l.startswith('Node listening on '), 0, 15)
        self.id = line.split()[-1]

    def send(self, text):
        """Writes one console line; returns the time just before the write."""
        t = time.monotonic()
        self.proc.stdin.write((text + '\n').encode())
        return t

    def wait_line(self, match, start, timeout):
        """The first line from index `start` on for which match(line) holds: (index, time, line)."""
        deadline = time.monotonic() + timeout
        with self.consoles.cond:
            i = start
            while True:
                while i < len(self.lines):
                    if match(self.lines[i][1]):
                        return (i,) + self.lines[i]
                    i += 1
                left = deadline - time.monotonic()
                if self.ended or left <= 0:
                    tail = '\n'.join(l for _, l in self.lines[-8:])
                    raise RuntimeError(f'node {getattr(self, "id", "?")}: no such line '
                                       f'{"(it exited)" if self.ended else f"in {timeout} s"}; last lines:\n{tail}')
                self.consoles.cond.wait(left)

    def count(self, needle):
        with self.consoles.cond:
            return sum(1 for _, l in self.lines if needle in l)

    def handled_at(self, name):
        """The hops of the query for `name` this node handled (its log line), or None."""
        with self.consoles.cond:
            for _, line in self.lines:
                m = HANDLED.match(line)
                if m and m.group(1) == name:
                    return int(m.group(2))
        return None

    def neighbours(self):
        """The peers this node chose and linked to (`peers`, neighbour column)."""
        start = len(self.lines)
        self.send('peers')
        i, _, head = self.wait_line(lambda l: l.startswith('Known peers (') or l == 'No known peers.', start, 10)
        want = int(head.split('(')[1].split(')')[0]) if head.startswith('Known') else 0
        chosen, seen = set(), 0
        while seen < want:
            i, _, line = self.wait_line(lambda l: PEER_LINE.match(l) is not None, i + 1, 10)
            m = PEER_LINE.match(line)
            seen += 1
            if m.group(2) == 'neighbour':
                chosen.add(m.group(1))
        return chosen

    def linked_from(self, peer_id):
        """Whether `peer_id` has connected to this node (its HELLO was logged: the handshake)."""
        return self.count(f' is node {peer_id} (') > 0

    def quit(self):
        """Asks the node to quit without waiting for it."""
        if self.proc.poll() is None and not self.proc.stdin.closed:
            try:
                self.send('quit')
                self.proc.stdin.close()
            except OSError:
                pass

    def stop(self):
        if self.proc.poll() is None:
            self.quit()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Sniffer:
    """Counts QUERY and HIT lines per file name on the loopback device (root only)."""

    def __init__(self):
        self.counts = collections.Counter()  # (kind, name) -> lines
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)
        self.sock.bind(('lo', 0))
        self.sock.settimeout(0.2)
        self.drops, self.packets, self.running = 0, 0, True
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while self.running:
            try:
                data, addr = self.sock.recvfrom(65536)
            except socket.timeout:
                continue
            if addr[2] != socket.PACKET_OUTGOING:  # loopback shows every packet twice
                continue
            with self.lock:
                for m in WIRE.finditer(data):
                    self.counts[(m.group(1).split(b' ')[0].decode(), m.group(2).decode())] += 1

    def stop(self):
        self.running = False
        self.thread.join()
        packets, drops = struct.unpack('II', self.sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8))
        self.packets, self.drops = packets, drops
        self.sock.close()

    def get(self, kind, name):
        with self.lock:
            return self.counts[(kind, name)]


class SilentPorts:
    """SCAN_PORTS consecutive ports on 127.0.0.1 that never answer a SYN: each listens with a
    backlog of 0 and is filled by connections never accepted, so the kernel drops new SYNs."""

    def __init__(self, n):
        for _ in range(100):
            base = random.randint(12000, 20000 - n)
            socks = []
            try:
                for p in range(base, base + n):
                    s = socket.socket()
                    socks.append(s)
                    s.bind(('127.0.0.1', p))
            except OSError:
                for s in socks:
                    s.close()
                continue
            self.first, self.listeners, self.fillers = base, socks, []
            for p, s in zip(range(base, base + n), socks):
                s.listen(0)
                for _ in range(3):
                    f = socket.socket()
                    f.setblocking(False)
                    f.connect_ex(('127.0.0.1', p))
                    self.fillers.append(f)
            time.sleep(0.2)
            probe = socket.socket()
            probe.settimeout(0.5)
            try:  # proof of silence: a connect must time out
                probe.connect(('127.0.0.1', base + n // 2))
                answered = True
            except socket.timeout:
                answered = False
            finally:
                probe.close()
            if answered:
                self.close()
                raise RuntimeError('a silent port answered a connect')
            return
        raise RuntimeError(f'no run of {n} free ports in 12000-19999')

    def close(self):
        for s in self.listeners + self.fillers:
            s.close()

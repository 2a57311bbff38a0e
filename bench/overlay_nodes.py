#!/usr/bin/env python3
"""The instruments of bench/overlay_search.py: our nodes on pipes, the wire, silent ports.

- Consoles: one thread reads every node's stdout; each line is kept with the time it was read
  (time.monotonic), so a console line can be timed against the moment a command was written.
  With --trace, the reader counts the QUERY and HIT lines each node sent (`trace -> ...`) per
  query id and keeps no trace line: the PEERS gossip of every link is traced too, and keeping
  it would only slow every wait for a line.
- Node: one p2p-node under `timeout`, with --port 0 and folders of its own; console commands,
  waiting for a line, `peers` parsed, the "(N server lines dropped)" notices it printed.
- SilentPorts: ports of 127.0.0.1 that never answer a SYN (as test/support.cpp SilentPorts).
"""
import collections
import os
import random
import re
import selectors
import socket
import subprocess
import threading
import time

PEER_LINE = re.compile(r'^(\S+)  (?:connected|-)  (neighbour|-)  last seen')
HANDLED = re.compile(r'^Query for (\S+) from \S+ \((\d+) hops?\): ')
# A message this node sent, as --trace prints it (src/lab/trace.cpp): the bytes as a Python bytes
# literal, e.g. trace -> 127.0.0.1:5003  b'QUERY <qid> 7 1 far.txt\n'  query ...
SENT = re.compile(rb"^trace -> \S+  b'(QUERY|HIT) ([0-9a-f]+) (.*?)\\n'  ")
TLS = re.compile(rb'^trace [-<]. \S+  TLSv1\.3 ')
DROPPED = re.compile(r'^\((\d+) server lines dropped\)$')


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
                        node.pending += data
                        *complete, node.pending = node.pending.split(b'\n')
                        for raw in complete:
                            while raw.startswith(b'>:'):  # the prompt, written before each command
                                raw = raw[2:]
                            if raw.startswith(b'trace '):
                                node.traced(raw)  # counted, not kept
                                continue
                            line = raw.decode(errors='replace')
                            m = DROPPED.match(line)
                            if m:
                                node.drops.append((now, int(m.group(1))))
                            node.lines.append((now, line))
                    self.cond.notify_all()


class Node:
    """One p2p-node under `timeout`, with its console on pipes."""

    def __init__(self, consoles, args, folder, extra):
        self.consoles, self.lines, self.pending, self.ended = consoles, [], b'', False
        self.trace_lines = 0                 # trace lines read (all kinds; none is kept)
        self.tls_lines = 0                   # of them, TLS handshakes done (`trace <- P  TLSv1.3 ...`)
        self.sent = collections.Counter()    # (QUERY or HIT, qid, name) -> lines this node sent
        self.origin_qid = {}                 # name -> qid of a QUERY this node sent with hops 1
        self.drops = []                      # (time read, N) of each "(N server lines dropped)"
        self.shared = os.path.join(folder, 'shared')
        os.makedirs(self.shared)
        os.makedirs(os.path.join(folder, 'state'))
        cmd = ['timeout', '-k', '5', str(args.node_limit), args.node, '--port', '0',
               '--shared', self.shared, '--state', os.path.join(folder, 'state'),
               '--verbose'] + extra  # --verbose: the 'is node' lines connected_from() counts
        if args.trace:
            cmd.append('--trace')
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

    def traced(self, raw):
        """One trace line (bytes), under consoles.cond: a QUERY or HIT this node sent is counted
        by query id and name. QUERY <qid> <ttl> <hops> <name>; HIT <qid> <hops> <holder> <name>."""
        self.trace_lines += 1
        m = SENT.match(raw)
        if not m:
            self.tls_lines += TLS.match(raw) is not None
            return
        kind, qid = m.group(1).decode(), m.group(2).decode()
        fields = m.group(3).decode(errors='replace').split(' ', 2)
        if len(fields) != 3:
            return
        self.sent[(kind, qid, fields[2])] += 1
        if kind == 'QUERY' and fields[1] == '1':
            self.origin_qid.setdefault(fields[2], qid)

    def dropped_between(self, t0, t1):
        """Server lines this node reported dropped in notices read between t0 and t1."""
        with self.consoles.cond:
            return sum(n for t, n in self.drops if t0 <= t <= t1)

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

#!/usr/bin/env python3
"""Search over an overlay of our nodes and a scan of silent addresses, for bench/search.sh.

Phases, all in one run:
  line    NODES nodes in a line (the first --neighbours 0, every other --neighbours 1
          --bootstrap its predecessor, each started once the one before has linked). The file
          is held by the node DISTANCE hops from node 0; node 0 searches with each ttl.
  random  NODES nodes, each --neighbours K --bootstrap up to 3 random earlier nodes, started
          without waiting; once every node has K neighbours and the edge set holds still, a
          random node searches for a file held by another random node, with each ttl.
  scan    `scan` of 50 silent addresses: 127.0.0.1 ports whose accept queue is full (SYNs are
          dropped, as test/support.cpp SilentPorts), and, with --tun-scan, 50 addresses routed to
          a tun device that no process reads (it drops every packet).

Every search uses a file name of its own, so the nodes' logs and the wire can be counted per
search. Time to first hit runs from writing `search NAME TTL` to the origin's console to
reading its `NAME found on` line, both stamped here (one reader thread for all consoles).
Messages: the origin's own count (its summary line); the nodes that handled the query (the
`Query for NAME from` lines summed over all nodes' logs); and the QUERY and HIT lines on the
wire: every node runs with --trace, and the lines each one sent (`trace -> ... b'QUERY <qid>`,
`b'HIT <qid>`) are summed over all nodes for the qid the origin sent (its QUERY with hops 1).
Links between our nodes are TLS, so a packet capture no longer sees these lines. A node whose
console queue overflows drops server lines and says "(N server lines dropped)": the report
gives those per phase and names the searches they could have touched.

Prints a markdown report on stdout; --raw FILE gets one JSON line per search and per scan.
Every node runs under `timeout`; all are ended (quit, then SIGKILL) before this returns, also
on SIGTERM.
"""
import argparse
import collections
import datetime
import json
import math
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ left in bench/
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from overlay_nodes import Consoles, Node, SilentPorts  # noqa: E402

SUMMARY = re.compile(r': (\d+) hits?, (\d+) messages?, (\d+) ms(?: \(first hit after \d+ ms\))?\.$')
FOUND = re.compile(r' found on (\S+) \((\d+) hops?\)$')
SCAN_PORTS = 50


def percentile(values, p):
    """Nearest rank: the smallest value with at least p% of the values at or below it."""
    s = sorted(values)
    return s[max(0, math.ceil(p / 100 * len(s)) - 1)] if s else None


def undirected(chosen):
    """The overlay's edges from each node's chosen neighbours ({id: set of ids}): a link one
    side chose is answered by a link back, so every choice is one undirected edge."""
    return {tuple(sorted((x, y))) for x, ys in chosen.items() for y in ys}


def hops_from(edges, source):
    """Shortest-path hop counts from `source` over an undirected edge set (BFS)."""
    adj = collections.defaultdict(set)
    for a, b in edges:
        adj[a].add(b)
        adj[b].add(a)
    dist, frontier = {source: 0}, [source]
    while frontier:
        nxt = []
        for v in frontier:
            for w in adj[v]:
                if w not in dist:
                    dist[w] = dist[v] + 1
                    nxt.append(w)
        frontier = nxt
    return dist


class Bench:
    def __init__(self, args):
        self.args, self.consoles, self.nodes = args, Consoles(), []
        self.searches, self.scans, self.notes = [], [], []
        self.line_info, self.random_info = None, []
        self.rng = random.Random(args.seed)
        self.windows = {}  # search name -> (time written, time its summary was read)
        self.phase, self.phases = '', []  # per phase: trace lines read, server lines dropped
        self.folders = 0

    def start(self, extra):
        self.folders += 1
        node = Node(self.consoles, self.args, os.path.join(self.args.tmp, f'n{self.folders}'), extra)
        self.nodes.append(node)
        return node

    def stop_all(self):
        if self.nodes:
            self.phases.append({'phase': self.phase, 'nodes': len(self.nodes),
                                'trace_lines': sum(n.trace_lines for n in self.nodes),
                                'tls': sum(n.tls_lines for n in self.nodes),
                                'dropped': sum(k for n in self.nodes for _, k in n.drops)})
        for n in self.nodes:  # quit all first: they exit in parallel
            n.quit()
        for n in self.nodes:
            n.stop()
        self.nodes = []

    def search(self, topology, origin, holder, ttl, name, nodes, distance):
        """One search from `origin` for a file only `holder` has; appends its figures."""
        with open(os.path.join(holder.shared, name), 'w') as f:
            f.write('x\n')
        start = len(origin.lines)
        t0 = origin.send(f'search {name} {ttl}')
        end, t1, summary = origin.wait_line(lambda l: l.startswith(f'Search for {name}:'), start, 20)
        self.windows[name] = (t0, t1)
        first = None
        with self.consoles.cond:
            for t, line in origin.lines[start:end]:
                m = FOUND.search(line)
                if line.startswith(f'{name} found on') and m:
                    first = (t - t0, int(m.group(2)))
                    break
        hits, messages, ms = map(int, SUMMARY.search(summary).groups())
        self.searches.append({
            'topology': topology, 'ttl': ttl, 'name': name, 'origin': origin.id, 'holder': holder.id,
            'distance': distance, 'hits': hits, 'origin_messages': messages, 'search_ms': ms,
            'first_hit_ms': None if first is None else round(first[0] * 1000, 2),
            'hit_hops': None if first is None else first[1], 'nodes': nodes})

    def count_network(self, nodes, edges):
        """After a phase, per search: the nodes that handled the query (their logs), at how many
        hops against their shortest path from the origin, and the lines on the wire."""
        time.sleep(1)  # the last flood has long ended; let the consoles drain
        for s in self.searches:
            if 'handled' in s:  # an earlier phase's, counted before its nodes were stopped
                continue
            shortest = hops_from(edges, s['origin'])
            at = {n.id: n.handled_at(s['name']) for n in nodes if n.id != s['origin']}
            s['handled'] = sum(1 for h in at.values() if h is not None)
            s['within_ttl'] = sum(1 for v in at if shortest.get(v, 99) <= s['ttl'])
            s['longer_path'] = sum(1 for v, h in at.items() if h is not None and h > shortest.get(v, 99))
            s['missed_within_ttl'] = sum(1 for v, h in at.items() if h is None and shortest.get(v, 99) <= s['ttl'])
            # Drop notices read from the search's start until 1 s after its end (a notice comes
            # once output flows again, after the lines it stands for).
            t0, t1 = self.windows[s['name']]
            s['dropped_lines'] = sum(n.dropped_between(t0, t1 + 1) for n in nodes)
            if not self.args.trace:
                continue
            origin = next(n for n in nodes if n.id == s['origin'])
            with self.consoles.cond:
                qid = origin.origin_qid.get(s['name'])
                by_qid = collections.Counter()
                by_name = collections.Counter()
                for n in nodes:
                    for (kind, q, name), c in n.sent.items():
                        if q == qid:
                            by_qid[kind] += c
                        if name == s['name']:
                            by_name[kind] += c
            s['qid'] = qid
            if qid is None:  # the origin's own QUERY line is missing: no count
                self.notes.append(f'- {s["name"]}: the origin traced no QUERY with hops 1; no wire count.')
                continue
            s['wire_queries'], s['wire_hits'] = by_qid['QUERY'], by_qid['HIT']
            if by_qid != by_name:
                self.notes.append(f'- {s["name"]}: lines by qid {dict(by_qid)} differ from lines by name {dict(by_name)}.')

    # ---- line ----
    def line(self):
        a, n = self.args, self.args.nodes
        self.phase = 'line'
        t_start = time.monotonic()
        nodes = [self.start(['--neighbours', '0'])]
        for i in range(1, n):
            node = self.start(['--neighbours', '1', '--bootstrap', nodes[-1].id])
            # The next node starts only once this one has linked to its predecessor: before
            # that, gossip from a successor could offer it another choice than the predecessor.
            nodes[-1].wait_line(lambda l, me=node.id: f' is node {me} (' in l, 0, 30)
            nodes.append(node)
        for i in range(1, n):  # the links back (predecessor -> successor) are up too
            nodes[i].wait_line(lambda l, p=nodes[i - 1].id: f' is node {p} (' in l, 0, 30)
        built = time.monotonic() - t_start
        edges = undirected({nd.id: nd.neighbours() for nd in nodes})
        want = {tuple(sorted((nodes[i - 1].id, nodes[i].id))) for i in range(1, n)}
        self.line_info = {'nodes': n, 'build_s': round(built, 1), 'intact': edges == want,
                          'edges': len(edges)}
        print(f'line of {n} built in {built:.1f} s, intact: {edges == want}', file=sys.stderr)
        distances = [d for d in a.line_distances if d < n]
        for r in range(a.line_reps):
            for d in distances:
                for ttl in a.line_ttls:
                    self.search('line', nodes[0], nodes[d], ttl, f'line-d{d}-t{ttl}-r{r}.bin', n, d)
        self.count_network(nodes, edges)
        self.stop_all()

    # ---- random ----
    def random_graph(self, k):
        a, n = self.args, self.args.nodes
        topology = f'random-k{k}'
        self.phase = topology
        t_start = time.monotonic()
        nodes = [self.start(['--neighbours', str(k)])]
        for i in range(1, n):
            boot = [nodes[j].id for j in self.rng.sample(range(i), min(3, i))]
            nodes.append(self.start(['--neighbours', str(k), '--bootstrap', ','.join(boot)]))
        started = time.monotonic() - t_start
        # Settled: every node has k chosen neighbours, both directions of every link are up,
        # and two polls 2 s apart see the same edges.
        prev, deadline = None, time.monotonic() + a.settle_limit
        by_id = {nd.id: nd for nd in nodes}
        while True:
            chosen = {nd.id: nd.neighbours() for nd in nodes}
            edges = undirected(chosen)
            full = all(len(ys) >= min(k, n - 1) for ys in chosen.values())
            both = all(by_id[x].linked_from(y) and by_id[y].linked_from(x) for x, y in edges)
            if full and both and edges == prev:
                settled = True
                break
            if time.monotonic() > deadline:
                settled = False
                break
            prev = edges
            time.sleep(2)
        settle = time.monotonic() - t_start
        degree = collections.Counter()
        for x, y in edges:
            degree[x] += 1
            degree[y] += 1
        degrees = [degree[nd.id] for nd in nodes]
        dist = {nd.id: hops_from(edges, nd.id) for nd in nodes}
        ecc = [max(d.values()) for d in dist.values()]
        pairs = [h for d in dist.values() for v, h in d.items() if h > 0]
        within = {ttl: statistics.mean(sum(1 for h in d.values() if 0 < h <= ttl) for d in dist.values())
                  for ttl in a.ttls}
        info = {'k': k, 'nodes': n, 'start_s': round(started, 1), 'settle_s': round(settle, 1),
                'settled': settled, 'edges': len(edges), 'degree_hist': dict(sorted(collections.Counter(degrees).items())),
                'degree_mean': round(statistics.mean(degrees), 2), 'degree_min': min(degrees),
                'degree_max': max(degrees), 'connected': all(len(d) == n for d in dist.values()),
                'diameter': max(ecc), 'mean_path': round(statistics.mean(pairs), 2),
                'reach_within': {t: round(v, 1) for t, v in within.items()}}
        self.random_info.append(info)
        print(f'random graph k={k}: {info}', file=sys.stderr)
        for r in range(a.random_reps):
            for ttl in a.ttls:
                o, h = self.rng.sample(range(n), 2)
                self.search(topology, nodes[o], nodes[h], ttl, f'rand-k{k}-t{ttl}-r{r}.bin', n,
                            dist[nodes[o].id].get(nodes[h].id))
        self.count_network(nodes, edges)
        self.stop_all()

    # ---- scan ----
    def scan_once(self, kind, node, target, expect):
        start = len(node.lines)
        t0 = node.send(f'scan {target}')
        results, i, t_end = 0, start, None
        inactive = 0
        while results < expect:
            i, t_end, line = node.wait_line(lambda l: l.startswith('Peer ') and l.endswith(('is active.', 'is inactive.')),
                                            i, 60 + 2 * expect)
            results += 1
            inactive += line.endswith('is inactive.')
            i += 1
        self.scans.append({'kind': kind, 'target': target, 'addresses': expect, 'inactive': inactive,
                           'seconds': round(t_end - t0, 3)})

    def scan_reps(self, kind, target):
        """A node of its own scans `target` (SCAN_PORTS silent addresses) scan_reps times."""
        self.phase = f'scan: {kind}'
        node = self.start(['--neighbours', '0'])
        for _ in range(self.args.scan_reps):
            self.scan_once(kind, node, target, SCAN_PORTS)
        self.stop_all()

    def scan_loopback(self):
        silent = SilentPorts(SCAN_PORTS)
        try:
            self.scan_reps('loopback, full accept queues',
                           f'127.0.0.1:{silent.first}-{silent.first + SCAN_PORTS - 1}')
        finally:
            silent.close()

    def scan_tun(self):
        """Only in a private network namespace (bench/search.sh makes one): a tun device that no
        process reads drops every packet routed to it, so SYNs to 10.77.0.0/24 get no answer
        at all (no RST, no ICMP)."""
        for cmd in (['ip', 'tuntap', 'add', 'dev', 'silent0', 'mode', 'tun'],
                    ['ip', 'addr', 'add', '10.77.0.1/24', 'dev', 'silent0'],
                    ['ip', 'link', 'set', 'silent0', 'up']):
            subprocess.run(cmd, check=True)
        try:
            self.scan_reps('50 hosts routed to an unread tun device', f'10.77.0.10-10.77.0.{9 + SCAN_PORTS}:5000')
        finally:
            subprocess.run(['ip', 'link', 'del', 'silent0'], check=False)


def fmt(v, digits=1):
    return '-' if v is None else f'{v:.{digits}f}'


def run_header(args, started, load0):
    """The report's first lines: date and length of the run, command, CPU and load, kernel."""
    return [f'date:    {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, {time.monotonic() - started:.0f} s in all',
            f'command: {args.command}',
            f'cpu:     {os.cpu_count()} x {cpu_model()}; load {load0} at start, '
            f'{" ".join(open("/proc/loadavg").read().split()[:3])} at the end',
            f'kernel:  {os.uname().sysname} {os.uname().release}; network namespace: '
            + ('private (only this run on its loopback)' if args.private_netns else 'shared with the host')]


def report(b, args, started, load0):
    out = run_header(args, started, load0)
    w = out.append
    w(f'seed:    {args.seed} (--seed repeats the random choices); wire counts: '
      + ('every node with --trace, the QUERY/HIT lines each sent, by the search\'s qid'
         if args.trace else 'off (--no-trace)'))
    for ph in b.phases:
        w(f'phase:   {ph["phase"]}: {ph["nodes"]} nodes, {ph["trace_lines"]} trace lines read '
          f'({ph["tls"]} of them TLS 1.3 handshakes, as the connecting sides trace them), '
          f'{ph["dropped"]} server lines dropped by the nodes')
    touched = [s for s in b.searches if s.get('dropped_lines')]
    if touched:
        w(f'DROPS:   server lines were dropped during {len(touched)} searches: '
          + ', '.join(f'{s["name"]} ({s["dropped_lines"]})' for s in touched)
          + '; their wire and handled counts may be short.')
    w('')
    if b.line_info:
        li = b.line_info
        w(f'Line: {li["nodes"]} nodes built in {li["build_s"]} s; the line is '
          f'{"intact" if li["intact"] else "NOT intact"} ({li["edges"]} edges in `peers`).')
    for ri in b.random_info:
        w(f'Random graph, --neighbours {ri["k"]}: {ri["nodes"]} nodes started in {ri["start_s"]} s, '
          f'{"settled" if ri["settled"] else "NOT settled"} after {ri["settle_s"]} s; {ri["edges"]} edges, '
          f'degree min/mean/max {ri["degree_min"]}/{ri["degree_mean"]}/{ri["degree_max"]}, '
          f'histogram (degree: nodes) {ri["degree_hist"]}; connected: {ri["connected"]}, '
          f'diameter {ri["diameter"]}, mean shortest path {ri["mean_path"]} hops; nodes within '
          + ', '.join(f'{t} hops: {v}' for t, v in ri['reach_within'].items()) + ' (mean over origins).')
    w('')
    w('| topology | holder at (hops) | ttl | searches | found (holder within ttl) | first hit ms, median '
      '| p90 | hops of the hit | origin messages, median | nodes that handled the query, median '
      '| QUERY lines on the wire, median | HIT lines on the wire, median |')
    w('|---|---|---|---|---|---|---|---|---|---|---|---|')
    groups = collections.OrderedDict()
    for s in b.searches:
        key = (s['topology'], s['distance'] if s['topology'] == 'line' else 'random', s['ttl'])
        groups.setdefault(key, []).append(s)
    for (topo, dist, ttl), ss in groups.items():
        firsts = [s['first_hit_ms'] for s in ss if s['first_hit_ms'] is not None]
        hops = sorted({s['hit_hops'] for s in ss if s['hit_hops'] is not None})
        near = [s['distance'] for s in ss if s['distance'] is not None]
        if dist == 'random':
            dist = f'random, {min(near)}-{max(near)}' if near else 'random'
        within = sum(1 for d in near if d <= ttl)
        med = lambda k: fmt(statistics.median(s[k] for s in ss), 0) if all(k in s for s in ss) else '-'
        w(f'| {topo} | {dist} | {ttl} | {len(ss)} | {len(firsts)}/{len(ss)} ({within}) | '
          f'{fmt(statistics.median(firsts)) if firsts else "-"} | {fmt(percentile(firsts, 90))} | '
          f'{",".join(map(str, hops)) or "-"} | {med("origin_messages")} | {med("handled")} | '
          f'{med("wire_queries")} | {med("wire_hits")} |')
    w('')
    w('| topology | ttl | searches | hits over a longer path than the shortest | nodes within ttl '
      '(shortest path), median | nodes that handled the query, median | of them reached over a longer '
      'path, median | nodes within ttl never reached: searches with any, total |')
    w('|---|---|---|---|---|---|---|---|')
    for (topo, _, ttl), ss in groups.items():
        if topo == 'line' or not all('longer_path' in s for s in ss):
            continue
        found = [s for s in ss if s['hit_hops'] is not None]
        med = lambda k: fmt(statistics.median(s[k] for s in ss), 0)
        w(f'| {topo} | {ttl} | {len(ss)} | {sum(1 for s in found if s["hit_hops"] > s["distance"])} of '
          f'{len(found)} | {med("within_ttl")} | {med("handled")} | {med("longer_path")} | '
          f'{sum(1 for s in ss if s["missed_within_ttl"])}, {sum(s["missed_within_ttl"] for s in ss)} |')
    if b.scans:
        w('')
        w('| scan of 50 silent addresses | run | seconds | inactive | probe timeout s | 50 x timeout s |')
        w('|---|---|---|---|---|---|')
    for i, s in enumerate(b.scans):
        w(f'| {s["kind"]} (`scan {s["target"]}`) | {i % args.scan_reps + 1} | {s["seconds"]:.3f} | '
          f'{s["inactive"]}/{s["addresses"]} | 1.0 | 50 |')
    if b.notes:
        w('')
    for note in b.notes:
        w(note)
    return '\n'.join(out)


def cpu_model():
    with open('/proc/cpuinfo') as f:
        for line in f:
            if line.startswith('model name'):
                return line.split(':', 1)[1].strip()
    return '?'


def main():
    ap = argparse.ArgumentParser(description='search over an overlay of nodes, and a scan of silent addresses')
    ap.add_argument('--node', required=True)
    ap.add_argument('--tmp', required=True, help='an empty folder for the nodes (removed by the caller)')
    ap.add_argument('--nodes', type=int, default=50)
    ap.add_argument('--line-ttls', default='3,7,15', help='ttls of the line searches, comma list')
    ap.add_argument('--ttls', default='3,7', help='ttls of the random-graph searches, comma list')
    ap.add_argument('--line-distances', default='3,7,15,49', help='hops from node 0 to the holder, comma list')
    ap.add_argument('--line-reps', type=int, default=5)
    ap.add_argument('--random-k', default='2,4', help='--neighbours of the random graphs, comma list')
    ap.add_argument('--random-reps', type=int, default=10)
    ap.add_argument('--scan-reps', type=int, default=3)
    ap.add_argument('--phases', default='line,random,scan')
    ap.add_argument('--tun-scan', action='store_true',
                    help='also scan 50 hosts behind a tun device made here: only in a private network namespace')
    ap.add_argument('--settle-limit', type=float, default=120)
    ap.add_argument('--node-limit', type=int, default=900, help='seconds each node may live')
    ap.add_argument('--seed', type=int, default=None)
    ap.add_argument('--private-netns', action='store_true', help='for the report: run in a namespace of its own')
    ap.add_argument('--no-trace', action='store_true',
                    help='nodes without --trace: no wire counts (to compare timings)')
    ap.add_argument('--raw', help='write one JSON line per search and scan here')
    ap.add_argument('--command', default='bench/overlay_search.py', help='the command line to print in the report')
    args = ap.parse_args()
    args.trace = not args.no_trace
    args.ttls = [int(t) for t in args.ttls.split(',')]
    args.line_ttls = [int(t) for t in args.line_ttls.split(',')]
    args.line_distances = [int(d) for d in args.line_distances.split(',')]
    if args.seed is None:
        args.seed = random.randrange(1 << 30)
    phases = args.phases.split(',')
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started, load0 = time.monotonic(), ' '.join(open('/proc/loadavg').read().split()[:3])
    b = Bench(args)
    try:
        if 'line' in phases:
            b.line()
        for k in ([int(x) for x in args.random_k.split(',')] if 'random' in phases else []):
            b.random_graph(k)
        if 'scan' in phases:
            b.scan_loopback()
            if args.tun_scan:
                b.scan_tun()
            else:
                b.notes.append('The scan of 50 hosts behind a tun device was skipped (needs root and a private network namespace).')
    finally:
        b.stop_all()
    print(report(b, args, started, load0))
    if args.raw:
        with open(args.raw, 'w') as f:
            for s in b.searches + b.scans:
                f.write(json.dumps(s) + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())

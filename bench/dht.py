#!/usr/bin/env python3
"""The DHT against the flood, for bench/dht.sh (issue 10).

For each network size N (--nodes, default 10,20,30,50), in one run:
  start   N nodes with --dht 0 and --neighbours 2; node i bootstraps its overlay from up to 3
          random earlier nodes (as overlay_search.py's random graphs) and its DHT from the UDP
          port of one random earlier node. All are started without waiting for each other.
  settle  the overlay as in overlay_search.py (every node has its 2 chosen neighbours, both
          directions of every link are up, two polls 2 s apart see the same edges) and the DHT:
          every node's `dht` shows at least min(N-1, 8) good nodes. Bounded by --settle-limit;
          searching starts no sooner than 16 s after the last node started, when every node's
          announcer has done its 5 eager reads of the presence key (one every 3 s).
  files   one fresh file per search (dht-nN-rI.bin) goes into a random holder's shared folder,
          all at once; each holder's `Values announced` is polled until it counts them, then
          --announce-wait seconds more, so the puts have stored the values.
  search  --searches times: a random origin other than the holder runs `search NAME 7`. The
          node asks the DHT first, confirms each holder it names over TCP, then floods.

Figures per search. DHT: from the origin's line `DHT for NAME: K announced, C confirmed, T ms
(lookup L ms, first value after F ms, R requests).` (the node's own clock); and, from `dht` on
every node just before and just after the search, the find and get requests each sent and
received in that window (OpenDHT's counters): the origin's own and the whole network's, so the
part of R that other lookups could have added shows. A background lookup of the origin's own
announcer in the window shows as its `Lookups` count rising by 2 or more. Flood: from the summary
`Search for NAME: H hits, M messages, T ms (first hit after F ms).`, and the QUERY and HIT lines
all nodes sent for the search's query id, counted from --trace as overlay_search.py does.

Prints a markdown report on stdout; --raw FILE gets one JSON line per search. Every node runs
under `timeout`; all are ended (quit, then SIGKILL) before this returns, also on SIGTERM.
"""
import argparse
import collections
import json
import os
import random
import re
import signal
import statistics
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ left in bench/
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from overlay_nodes import Consoles, Node  # noqa: E402
from overlay_search import fmt, hops_from, percentile, run_header, undirected  # noqa: E402

DHT_PORT = re.compile(r'^DHT listening on UDP port (\d+) ')
DHT_LINE = re.compile(r'^DHT for (\S+): (\d+) announced, (\d+) confirmed, (\d+) ms \(lookup (\d+) ms, '
                      r'first value after (-?\d+) ms, (\d+) requests?\)\.$')
FLOOD_LINE = re.compile(r': (\d+) hits?, (\d+) messages?, (\d+) ms(?: \(first hit after (\d+) ms\))?\.$')
STATUS = {'good': re.compile(r'^Nodes: (\d+) good, (\d+) dubious\.$'),
          'announced': re.compile(r'^Values announced: (\d+)\.$'),
          'lookups': re.compile(r'^Lookups: (\d+), median'),
          'requests': re.compile(r'^Requests \(find, get\): (\d+) sent, (\d+) answered\.$')}
TTL = 7
K = 2  # --neighbours: a mean degree of about 4, as issue 7's first random graph


def dht_status(nodes):
    """`dht` on every node at once; per node {'good', 'announced', 'lookups', 'sent', 'answered'}."""
    starts = []
    for n in nodes:
        starts.append(len(n.lines))
        n.send('dht')
    out = []
    for n, start in zip(nodes, starts):
        end, _, _ = n.wait_line(lambda l: l.startswith('Requests (find, get): '), start, 15)
        s = {}
        with n.consoles.cond:
            for _, line in n.lines[start:end + 1]:
                for key, rx in STATUS.items():
                    m = rx.match(line)
                    if m:
                        s[key] = int(m.group(1))
                        if key == 'requests':
                            s['sent'], s['answered'] = int(m.group(1)), int(m.group(2))
        out.append(s)
    return out


class Bench:
    def __init__(self, args):
        self.args, self.consoles, self.nodes = args, Consoles(), []
        self.rng = random.Random(args.seed)
        self.searches, self.sizes, self.notes = [], [], []
        self.folders = 0

    def start(self, extra):
        self.folders += 1
        node = Node(self.consoles, self.args, os.path.join(self.args.tmp, f'n{self.folders}'), extra)
        _, _, line = node.wait_line(lambda l: DHT_PORT.match(l) is not None, 0, 15)
        node.udp = int(DHT_PORT.match(line).group(1))
        self.nodes.append(node)
        return node

    def stop_all(self):
        for n in self.nodes:  # quit all first: they exit in parallel
            n.quit()
        for n in self.nodes:
            n.stop()
        self.nodes = []

    def settle(self, nodes, t_last_start):
        """Waits until the overlay holds still and every DHT routing table is filled; returns
        (settled, the edges, the good-node counts); a note says what was not met in time."""
        n, want_good = len(nodes), min(len(nodes) - 1, 8)
        by_id = {nd.id: nd for nd in nodes}
        prev, deadline = None, time.monotonic() + self.args.settle_limit
        while True:
            chosen = {nd.id: nd.neighbours() for nd in nodes}
            edges = undirected(chosen)
            full = all(len(ys) >= min(K, n - 1) for ys in chosen.values())
            both = all(by_id[x].linked_from(y) and by_id[y].linked_from(x) for x, y in edges)
            good = [s['good'] for s in dht_status(nodes)]
            held = {'every node has its neighbours': full, 'both directions of every link': both,
                    'the edges held still': edges == prev, 'DHT tables filled': min(good) >= want_good}
            if all(held.values()):
                break
            if time.monotonic() > deadline:
                self.notes.append(f'- {n} nodes: NOT settled after {self.args.settle_limit:.0f} s; not met: '
                                  + ', '.join(k for k, v in held.items() if not v) + '.')
                break
            prev = edges
            time.sleep(2)
        # The announcers' eager presence reads (5 rounds of 3 s from each node's start) are over.
        time.sleep(max(0.0, t_last_start + 16 - time.monotonic()))
        return all(held.values()), edges, good

    def place_files(self, nodes, size):
        """One fresh file per search in a random holder's folder; waits until every holder
        announced its files. Returns [(origin, holder, name)] and the seconds waited."""
        plan = []
        for r in range(self.args.searches):
            o, h = self.rng.sample(range(size), 2)
            plan.append((nodes[o], nodes[h], f'dht-n{size}-r{r}.bin'))
        holders = list({id(h): h for _, h, _ in plan}.values())
        before = {id(h): s['announced'] for h, s in zip(holders, dht_status(holders))}
        t0 = time.monotonic()
        for _, h, name in plan:
            with open(os.path.join(h.shared, name), 'w') as f:
                f.write('x\n')
        want = collections.Counter(id(h) for _, h, _ in plan)
        while True:
            now = {id(h): s['announced'] for h, s in zip(holders, dht_status(holders))}
            if all(now[k] >= before[k] + want[k] for k in want):
                break
            if time.monotonic() - t0 > 30:
                self.notes.append(f'- {size} nodes: not every holder announced its files within 30 s; searched anyway.')
                break
            time.sleep(0.5)
        announced = time.monotonic() - t0
        time.sleep(self.args.announce_wait)
        return plan, announced

    def search(self, nodes, size, origin, holder, name):
        before = dht_status(nodes)
        time.sleep(0.2)  # the status commands' own work is done before the search starts
        start = len(origin.lines)
        t0 = origin.send(f'search {name} {TTL}')
        end, _, summary = origin.wait_line(lambda l: l.startswith(f'Search for {name}: '), start, 30)
        after = dht_status(nodes)
        window = time.monotonic() - t0
        dht, dht_found_at = None, None
        with self.consoles.cond:
            for t, line in origin.lines[start:end]:
                m = DHT_LINE.match(line)
                if m and m.group(1) == name:
                    dht = [int(x) for x in m.groups()[1:]]
                if dht_found_at is None and line.startswith(f'{name} found on ') and line.endswith(' (dht)'):
                    dht_found_at = round((t - t0) * 1000, 1)
        if dht is None:
            raise RuntimeError(f'{name}: no DHT line from {origin.id}')
        hits, messages, flood_ms, first_hit = FLOOD_LINE.search(summary).groups()
        o = nodes.index(origin)
        self.searches.append({
            'nodes': size, 'name': name, 'origin': origin.id, 'holder': holder.id,
            'dht_announced': dht[0], 'dht_confirmed': dht[1], 'dht_ms': dht[2], 'dht_lookup_ms': dht[3],
            'dht_first_value_ms': None if dht[4] < 0 else dht[4], 'dht_requests': dht[5],
            'dht_found_driver_ms': dht_found_at,
            'origin_sent': after[o]['sent'] - before[o]['sent'],
            'origin_lookups': after[o]['lookups'] - before[o]['lookups'],
            'network_sent': sum(a['sent'] - b['sent'] for a, b in zip(after, before)),
            'network_answered': sum(a['answered'] - b['answered'] for a, b in zip(after, before)),
            'window_s': round(window, 2),
            'flood_hits': int(hits), 'flood_origin_messages': int(messages), 'flood_ms': int(flood_ms),
            'flood_first_hit_ms': None if first_hit is None else int(first_hit)})

    def count_wire(self, nodes, size):
        """The QUERY and HIT lines every node sent for each search's query id (--trace)."""
        time.sleep(1)  # the last flood has long ended; let the consoles drain
        for s in self.searches:
            if s['nodes'] != size:
                continue
            origin = next(n for n in nodes if n.id == s['origin'])
            with self.consoles.cond:
                qid = origin.origin_qid.get(s['name'])
                by_qid = collections.Counter()
                for n in nodes:
                    for (kind, q, _), c in n.sent.items():
                        if q == qid:
                            by_qid[kind] += c
            if qid is None:
                self.notes.append(f'- {s["name"]}: the origin traced no QUERY with hops 1; no wire count.')
                continue
            s['wire_queries'], s['wire_hits'] = by_qid['QUERY'], by_qid['HIT']

    def run_size(self, size):
        t_start = time.monotonic()
        nodes = []
        for i in range(size):
            extra = ['--dht', '0', '--neighbours', str(K)]
            if i:
                boot = [nodes[j].id for j in self.rng.sample(range(i), min(3, i))]
                extra += ['--bootstrap', ','.join(boot),
                          '--dht-bootstrap', f'127.0.0.1:{nodes[self.rng.randrange(i)].udp}']
            nodes.append(self.start(extra))
        t_last = time.monotonic()
        settled, edges, good = self.settle(nodes, t_last)
        settle_s = time.monotonic() - t_start
        degree = collections.Counter()
        for x, y in edges:
            degree[x] += 1
            degree[y] += 1
        dist = {nd.id: hops_from(edges, nd.id) for nd in nodes}
        plan, announced_s = self.place_files(nodes, size)
        totals0 = dht_status(nodes)
        t_searches = time.monotonic()
        for origin, holder, name in plan:
            self.search(nodes, size, origin, holder, name)
            print(f'{size} nodes: {json.dumps(self.searches[-1])}', file=sys.stderr)
        totals1 = dht_status(nodes)
        searches_s = time.monotonic() - t_searches
        self.count_wire(nodes, size)
        for s in self.searches:
            if s['nodes'] == size:
                s['distance'] = dist[s['origin']].get(s['holder'])
        self.sizes.append({
            'nodes': size, 'start_s': round(t_last - t_start, 1), 'settle_s': round(settle_s, 1),
            'settled': settled, 'good_min': min(good), 'good_median': statistics.median(good),
            'good_want': min(size - 1, 8), 'edges': len(edges),
            'degree_mean': round(2 * len(edges) / size, 2),
            'connected': all(len(d) == size for d in dist.values()),
            'diameter': max(max(d.values()) for d in dist.values()),
            'announced_s': round(announced_s, 1), 'searches_s': round(searches_s, 1),
            # "(N server lines dropped)": a full console queue; the wire counts may be short then.
            'dropped': sum(k for nd in nodes for _, k in nd.drops),
            # All nodes' find/get over the whole search phase, against the origins' lookups in it.
            'phase_sent': sum(b['sent'] - a['sent'] for a, b in zip(totals0, totals1)),
            'phase_answered': sum(b['answered'] - a['answered'] for a, b in zip(totals0, totals1))})
        print(f'{size} nodes: {self.sizes[-1]}', file=sys.stderr)
        self.stop_all()


def med(values, digits=0):
    values = [v for v in values if v is not None]
    return fmt(statistics.median(values), digits) if values else '-'


def p99(values):
    values = [v for v in values if v is not None]
    return fmt(percentile(values, 99), 0) if values else '-'


def report(b, args, started, load0):
    out = run_header(args, started, load0)
    w = out.append
    w(f'seed:    {args.seed} (--seed repeats the script\'s choices); {args.searches} searches per size, '
      f'`search NAME {TTL}`; p99 is the nearest rank ({args.searches} values: '
      + ('the largest' if args.searches < 100 else 'the 99th in 100') + ')')
    w('')
    w('| nodes | started in s | settled | after s | DHT good nodes: min, median (wanted) | overlay edges '
      '| mean degree | diameter | files announced after s | search phase s | find+get sent, all nodes '
      '| of them the search lookups (sum of R) | server lines dropped |')
    w('|---|---|---|---|---|---|---|---|---|---|---|---|---|')
    for z in b.sizes:
        ss = [s for s in b.searches if s['nodes'] == z['nodes']]
        w(f'| {z["nodes"]} | {z["start_s"]} | {"yes" if z["settled"] else "NO"} | {z["settle_s"]} | '
          f'{z["good_min"]}, {fmt(z["good_median"], 0)} ({z["good_want"]}) | {z["edges"]} | {z["degree_mean"]} | '
          f'{z["diameter"]}{"" if z["connected"] else " (NOT connected)"} | {z["announced_s"]} | '
          f'{z["searches_s"]} | {z["phase_sent"]} | {sum(s["dht_requests"] for s in ss)} | {z["dropped"]} |')
    w('')
    w('DHT (the origin\'s line; R = find+get requests the origin sent during the lookup, each '
      'answered by one reply at most):')
    w('')
    w('| nodes | searches | found (confirmed) | first value ms, median | p99 | lookup L ms, median | p99 '
      '| confirmed T ms, median | driver: write to first (dht) line ms, median | requests R, median (min-max) '
      '| messages ~2R, median | origin find+get over the whole search, median | all nodes\' find+get sent, answered in the window, median '
      '| searches with another lookup of the origin in the window | first value at 0 ms (under 1 ms) |')
    w('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|')
    for z in b.sizes:
        ss = [s for s in b.searches if s['nodes'] == z['nodes']]
        rs = [s['dht_requests'] for s in ss]
        w(f'| {z["nodes"]} | {len(ss)} | {sum(1 for s in ss if s["dht_confirmed"])}/{len(ss)} | '
          f'{med([s["dht_first_value_ms"] for s in ss])} | {p99([s["dht_first_value_ms"] for s in ss])} | '
          f'{med([s["dht_lookup_ms"] for s in ss])} | {p99([s["dht_lookup_ms"] for s in ss])} | '
          f'{med([s["dht_ms"] for s in ss])} | {med([s["dht_found_driver_ms"] for s in ss], 1)} | '
          f'{med(rs)} ({min(rs)}-{max(rs)}) | {med([2 * r for r in rs])} | {med([s["origin_sent"] for s in ss])} | '
          f'{med([s["network_sent"] for s in ss])}, {med([s["network_answered"] for s in ss])} | '
          f'{sum(1 for s in ss if s["origin_lookups"] > 1)} | {sum(1 for s in ss if s["dht_first_value_ms"] == 0)} |')
    w('')
    w(f'Flood, ttl {TTL} (the origin\'s summary; wire lines from --trace, by the search\'s query id):')
    w('')
    w('| nodes | searches | found | holder at (hops) | first hit ms, median | p99 | QUERY lines on the wire, median '
      '| HIT lines, median | QUERY+HIT, median | 2E-(N-1) (every node reached) | origin messages, median |')
    w('|---|---|---|---|---|---|---|---|---|---|---|')
    for z in b.sizes:
        ss = [s for s in b.searches if s['nodes'] == z['nodes']]
        near = [s['distance'] for s in ss if s.get('distance') is not None]
        wire = [s['wire_queries'] + s['wire_hits'] for s in ss if 'wire_queries' in s]
        w(f'| {z["nodes"]} | {len(ss)} | {sum(1 for s in ss if s["flood_hits"])}/{len(ss)} | '
          f'{min(near)}-{max(near)} | {med([s["flood_first_hit_ms"] for s in ss], 1)} | '
          f'{p99([s["flood_first_hit_ms"] for s in ss])} | {med([s.get("wire_queries") for s in ss])} | '
          f'{med([s.get("wire_hits") for s in ss])} | {med(wire)} | {2 * z["edges"] - (z["nodes"] - 1)} | '
          f'{med([s["flood_origin_messages"] for s in ss])} |')
    if len(b.sizes) > 1:
        lo, hi = b.sizes[0]['nodes'], b.sizes[-1]['nodes']
        w('')
        w(f'Growth from {lo} to {hi} nodes (median at {hi} / median at {lo}):')
        w('')
        w('| figure | at ' + ' | at '.join(str(z['nodes']) for z in b.sizes) + f' | {hi}/{lo} |')
        w('|---|' + '---|' * (len(b.sizes) + 1))
        rows = [('DHT first value ms', lambda s: s['dht_first_value_ms']),
                ('DHT lookup L ms', lambda s: s['dht_lookup_ms']),
                ('DHT requests R', lambda s: s['dht_requests']),
                ('flood first hit ms', lambda s: s['flood_first_hit_ms']),
                ('flood QUERY+HIT lines', lambda s: s['wire_queries'] + s['wire_hits'] if 'wire_queries' in s else None)]
        for label, get in rows:
            meds = []
            for z in b.sizes:
                vs = [get(s) for s in b.searches if s['nodes'] == z['nodes']]
                vs = [v for v in vs if v is not None]
                meds.append(statistics.median(vs) if vs else None)
            ratio = f'{meds[-1] / meds[0]:.2f}' if meds[0] and meds[-1] is not None else '-'
            w(f'| {label} | ' + ' | '.join(fmt(m, 1) for m in meds) + f' | {ratio} |')
    if b.notes:
        w('')
    for note in b.notes:
        w(note)
    return '\n'.join(out)


def main():
    ap = argparse.ArgumentParser(description='DHT lookups against a flooded search over N nodes')
    ap.add_argument('--node', required=True)
    ap.add_argument('--tmp', required=True, help='an empty folder for the nodes (removed by the caller)')
    ap.add_argument('--nodes', default='10,20,30,50', help='network sizes, comma list')
    ap.add_argument('--searches', type=int, default=20, help='searches per size')
    ap.add_argument('--announce-wait', type=float, default=3, help='seconds after the files are announced')
    ap.add_argument('--settle-limit', type=float, default=90)
    ap.add_argument('--node-limit', type=int, default=600, help='seconds each node may live')
    ap.add_argument('--seed', type=int, default=None)
    ap.add_argument('--private-netns', action='store_true', help='for the report: run in a namespace of its own')
    ap.add_argument('--raw', help='write one JSON line per search here')
    ap.add_argument('--command', default='bench/dht.py', help='the command line to print in the report')
    args = ap.parse_args()
    args.trace = True  # the flood's wire counts come from --trace (overlay_nodes.Node)
    sizes = [int(x) for x in args.nodes.split(',')]
    if args.seed is None:
        args.seed = random.randrange(1 << 30)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started, load0 = time.monotonic(), ' '.join(open('/proc/loadavg').read().split()[:3])
    b = Bench(args)
    try:
        for size in sizes:
            b.run_size(size)
    finally:
        b.stop_all()
    print(report(b, args, started, load0))
    if args.raw:
        with open(args.raw, 'w') as f:
            for s in b.searches:
                f.write(json.dumps(s) + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())

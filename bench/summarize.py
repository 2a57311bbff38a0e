#!/usr/bin/env python3
"""Turns bench/transfer.sh's raw results into the tables of docs/benchmarks.md.

Input: a TSV file, one line per timed transfer: method, run, seconds, rss_send_kib, rss_recv_kib
(and the search results as JSON lines in a second file). Output: markdown tables with the
median of the runs (min-max beside it), throughput from the median, the highest peak RSS seen,
and the targets of issue 3 checked against the medians.
"""
import argparse
import json
import statistics

LABELS = {
    'cp': '`cp` (one process)',
    'cp-fsync': '`cp` + fsync of the copy (reference)',
    'socat': '`socat` file -> TCP -> file',
    'lab-lab': "lab Python peer -> lab Python peer (REQ)",
    'node-node-first': 'our node -> our node (TLS, XREQ, 1st request: sender hashes)',
    'node-node-cached': 'our node -> our node (TLS, XREQ, digest cached)',
    'relay-plain-first': 'our node -> relay -> our node (plain: tls/1 removed, XREQ, 1st request)',
    'relay-plain-cached': 'our node -> relay -> our node (plain: tls/1 removed, XREQ, cached)',
    'relay-tls-first': 'our node -> relay -> our node (TLS, XREQ, 1st request)',
    'relay-tls-cached': 'our node -> relay -> our node (TLS, XREQ, cached)',
    'lab-node': 'lab Python peer -> our node (lab REQ)',
    'node-lab': 'our node -> lab Python peer (lab REQ)',
}
ORDER = list(LABELS)
SHORT = {'cp-fsync': '`cp` + fsync', 'socat': '`socat`'}


def mib(kib):
    return f'{kib / 1024:.1f}' if kib >= 0 else '?'


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('results')
    ap.add_argument('--search')
    ap.add_argument('--bytes', type=int, required=True)
    args = ap.parse_args()

    rows = {}
    with open(args.results) as f:
        for line in f:
            method, _run, secs, rs, rr = line.split('\t')
            rows.setdefault(method, []).append((float(secs), int(rs), int(rr)))
    size_mib = args.bytes / 2**20
    med = {m: statistics.median(s for s, _, _ in v) for m, v in rows.items()}

    print(f'| method | runs | wall s, median (min-max) | MiB/s | peak RSS sender MiB | peak RSS receiver MiB |')
    print('|---|---|---|---|---|---|')
    for m in sorted(rows, key=lambda k: ORDER.index(k) if k in ORDER else 99):
        v = rows[m]
        secs = [s for s, _, _ in v]
        print(f'| {LABELS.get(m, m)} | {len(v)} | {med[m]:.3f} ({min(secs):.3f}-{max(secs):.3f}) '
              f'| {size_mib / med[m]:.0f} | {mib(max(r for _, r, _ in v))} | {mib(max(r for _, _, r in v))} |')

    def ratio(a, b):
        return med[a] / med[b] if a in med and b in med else None

    refs = [r for r in ('cp-fsync', 'socat') if r in med]
    if refs:
        print()
        print('| method | ' + ' | '.join(f'time / {SHORT[r]} time' for r in refs) + ' |')
        print('|---|' + '---|' * len(refs))
        for m in sorted(rows, key=lambda k: ORDER.index(k) if k in ORDER else 99):
            print(f'| {LABELS.get(m, m)} | ' + ' | '.join(f'{ratio(m, r):.2f}x' for r in refs) + ' |')

    print()
    print('| target (issue 3) | measured | met |')
    print('|---|---|---|')
    for node in ('node-node-cached', 'node-node-first'):
        if node not in med:
            continue
        tag = 'cached' if node.endswith('cached') else '1st request'
        r = ratio(node, 'cp')
        if r is not None:
            print(f'| our node ({tag}) within 1.5x of `cp` | {r:.2f}x the time of `cp` | {"yes" if r <= 1.5 else "no"} |')
        r = ratio('lab-lab', node)
        if r is not None:
            print(f'| our node ({tag}) >= 3x faster than the lab peer | {r:.2f}x faster | {"yes" if r >= 3 else "no"} |')
        r = ratio('socat', node)
        if r is not None:
            print(f'| our node ({tag}) faster than `socat` | {r:.2f}x faster | {"yes" if r > 1 else "no"} |')
    peaks = [(m, max(max(rs, rr) for _, rs, rr in rows[m])) for m in rows if m.startswith(('node-node', 'relay-'))]
    if peaks:
        worst = max(p for _, p in peaks)
        print(f'| peak RSS < 32 MiB on both sides (node -> node, direct and relayed) | {mib(worst)} MiB at most | {"yes" if worst < 32 * 1024 else "no"} |')

    if args.search:
        print()
        print('| search: concurrent peers | requests/s | p50 ms | p99 ms | max ms | errors | peer CPU per request, us | peer peak RSS MiB |')
        print('|---|---|---|---|---|---|---|---|')
        runs = {}
        with open(args.search) as f:
            for line in f:
                d = json.loads(line)
                if 'error' not in d:
                    runs.setdefault(d['peer'], []).append(d)
        for peer, v in sorted(runs.items(), key=lambda kv: kv[0] != 'node'):
            name = 'our node' if peer == 'node' else 'lab Python peer'
            pick = lambda k: statistics.median(d[k] for d in v)
            print(f'| {name} ({v[0]["clients"]} clients, {v[0]["seconds"]:g} s, median of {len(v)}) '
                  f'| {pick("rps"):.0f} | {pick("p50_ms"):.2f} | {pick("p99_ms"):.2f} | {pick("max_ms"):.1f} '
                  f'| {sum(d["errors"] for d in v)} | {pick("peer_cpu_us_per_request"):.0f} '
                  f'| {mib(max(d["rss_kib"] for d in v))} |')


if __name__ == '__main__':
    main()

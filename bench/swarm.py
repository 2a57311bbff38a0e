#!/usr/bin/env python3
"""The swarm benchmark of docs/benchmarks.md (issue 9), driven by bench/swarm.sh.

Every node runs as `p2p-node --port 0 --shared DIR --state DIR --neighbours 0` (the system picks
the port; the driver reads it from `Node listening on 127.0.0.1:PORT`), with its console on
pipes (bench/peer_transfer.py's Peer) and its server lines kept (no --quiet): the driver waits
for `Manifest of F ready` and reads `Response to peer ...` lines. Steps (--steps):

  one      one source, SIZE bytes: cp + fsync, socat, `get` (manifest ready), `request` (XREQ)
           racing the indexer (the file is moved into the sender's folder just before)
  ttfb     a never-requested 4 GiB file: `XREQ F 0` from a raw TCP client at once; time to the
           answer line and to the first data byte; then the indexer's own hashing time
  rate     4 sources at --max-upload-rate 20M against 1, RATE_SIZE bytes
  rss      VmHWM of sender and receiver for a 4 GiB `get` from 1 source; receiver from 8
  corrupt  4 sources, one of them with bytes changed after its manifest: strikes and ban

Writes one JSON object per measurement to stdout; --report FILE turns them into markdown. Every timed step runs --runs times; a file
received is compared with its source (cmp) and deleted. Every process started is ended before
exit, also on SIGTERM (peer_transfer's Peer.stop, then kill).
"""
import argparse
import json
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peer_transfer import Peer, free_port, vm_hwm_kib  # noqa: E402
from summarize import mib  # noqa: E402

MIB = 1024 * 1024
GET_FAIL = ('interrupted', 'Could not', 'already exists', 'No source', 'Usage')  # not 'failed': strikes


def emit(**fields):
    print(json.dumps(fields), flush=True)


def cpu_seconds(pid):
    """utime + stime of a process, from /proc/PID/stat (fields 14 and 15, clock ticks)."""
    with open(f'/proc/{pid}/stat') as f:
        fields = f.read().rsplit(')', 1)[1].split()
    tick = os.sysconf('SC_CLK_TCK')
    return int(fields[11]) / tick, int(fields[12]) / tick


def write_file(path, size, pattern=False):
    """SIZE bytes: random, or (pattern) one random MiB repeated - real blocks, never sparse."""
    block = os.urandom(MIB)
    with open(path, 'wb') as f:
        left = size
        while left > 0:
            piece = block if pattern else os.urandom(MIB)
            f.write(piece[:min(left, MIB)])
            left -= MIB


def same(a, b):
    return subprocess.run(['cmp', '-s', a, b]).returncode == 0


class Lab:
    """The nodes of one step: each gets its own shared and state folder under ROOT."""

    def __init__(self, root, node, log):
        self.root, self.node, self.log = root, node, log
        self.nodes = []
        self.count = 0

    def start(self, shared=None, extra=()):
        self.count += 1
        name = f'n{self.count}'
        shared = shared or os.path.join(self.root, name + '-shared')
        state = os.path.join(self.root, name + '-state')
        os.makedirs(shared, exist_ok=True)
        peer = Peer('node', 0, shared, self.node, None, self.log, quiet=False,
                    extra=['--state', state, '--neighbours', '0', '--verbose'] + list(extra))
        self.nodes.append(peer)
        _, line = peer.expect('Node listening on', 15)
        peer.port = int(line.rsplit(':', 1)[1])
        peer.shared = shared
        peer.address = f'127.0.0.1:{peer.port}'
        return peer

    def stop(self, peer):
        peer.stop()
        self.nodes.remove(peer)

    def stop_all(self):
        for p in list(self.nodes):
            self.stop(p)


def manifest_seconds(peer, name, timeout):
    """Waits for the indexer's `Manifest of NAME ready: ... (T s).`; returns T."""
    _, line = peer.expect(f'Manifest of {name} ready', timeout)
    return float(line.rsplit('(', 1)[1].split()[0])


def timed_get(receiver, name, sources, timeout):
    """`get NAME SOURCES`: seconds from the command to the `bytes received from` line."""
    t0 = time.monotonic()
    receiver.send(f'get {name} ' + ' '.join(s.address for s in sources))
    t1, line = receiver.expect('bytes received from', timeout, fail=GET_FAIL)
    return t1 - t0, line


def start_sources(lab, src, name, count, extra=(), copy=False):
    """COUNT nodes sharing SRC as NAME (hard links, or each its own copy), manifests ready."""
    sources = []
    for _ in range(count):
        s = lab.start(extra=extra)
        (shutil.copyfile if copy else os.link)(src, os.path.join(s.shared, name))
        sources.append(s)
    for s in sources:
        manifest_seconds(s, name, 600)
    return sources


def fresh_get(lab, src, name, sources, timeout, **measure):
    """A fresh node gets NAME from SOURCES: the time, its last line, whether the copy equals SRC,
    and measure's functions applied to the receiver before it quits; the copy is deleted."""
    receiver = lab.start()
    os.sync()
    secs, line = timed_get(receiver, name, sources, timeout)
    fields = {k: f(receiver) for k, f in measure.items()}
    lab.stop(receiver)
    got = os.path.join(receiver.shared, name)
    fields.update(seconds=secs, line=line, same=same(src, got))
    os.unlink(got)
    return fields


def step_one(args, lab, tmp):
    """One source: cp + fsync, socat, get (manifest ready), request racing the indexer."""
    src = os.path.join(tmp, 'one.bin')
    write_file(src, args.size)
    dst = os.path.join(tmp, 'one-copy.bin')
    for run in range(1, args.runs + 1):
        os.sync()
        t0 = time.monotonic()
        subprocess.run(['cp', src, dst], check=True, timeout=args.timeout)
        t1 = time.monotonic()
        subprocess.run(['sync', dst], check=True, timeout=args.timeout)  # coreutils `sync FILE`: fsync of the copy
        t2 = time.monotonic()
        emit(step='one', method='cp+fsync', run=run, seconds=t2 - t0, cp_seconds=t1 - t0, fsync_seconds=t2 - t1,
             same=same(src, dst))
        os.unlink(dst)

        os.sync()
        port = free_port()
        listener = subprocess.Popen(['socat', '-u', f'FILE:{src}',
                                     f'TCP-LISTEN:{port},reuseaddr,bind=127.0.0.1'])
        receiving = None
        try:
            deadline = time.monotonic() + 10
            while subprocess.run(['ss', '-Htln', f'sport = :{port}'], capture_output=True).stdout == b'':
                if time.monotonic() > deadline:
                    raise RuntimeError('socat did not listen')
                time.sleep(0.05)
            t0 = time.monotonic()
            # Its CPU time (as for `get` below): what the reaped children used while it ran, and
            # it is the only child reaped meanwhile.
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            receiving = subprocess.Popen(['socat', '-u', f'TCP:127.0.0.1:{port}', f'CREATE:{dst}'])
            receiving.wait(timeout=args.timeout)
            secs = time.monotonic() - t0
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = [round(after.ru_utime - before.ru_utime, 2), round(after.ru_stime - before.ru_stime, 2)]
            if receiving.returncode != 0:
                raise RuntimeError(f'socat exited with {receiving.returncode}')
            subprocess.run(['sync', dst], check=True, timeout=args.timeout)  # what `get` does before it says saved
            fsync_secs = time.monotonic() - t0 - secs
            listener.wait(timeout=30)
        finally:
            for p in (listener, receiving):
                if p is not None and p.poll() is None:
                    p.kill()
                    p.wait()
        emit(step='one', method='socat', run=run, seconds=secs, fsync_seconds=fsync_secs,
             cpu_receiver=cpu, same=same(src, dst))
        os.unlink(dst)

        # get, the sender's manifest ready
        sender = lab.start()
        os.link(src, os.path.join(sender.shared, 'one.bin'))
        manifest_seconds(sender, 'one.bin', 120)
        receiver = lab.start()
        os.sync()
        cpu_s0, cpu_r0 = cpu_seconds(sender.proc.pid), cpu_seconds(receiver.proc.pid)
        secs, _ = timed_get(receiver, 'one.bin', [sender], args.timeout)
        cpu_s1, cpu_r1 = cpu_seconds(sender.proc.pid), cpu_seconds(receiver.proc.pid)
        got = os.path.join(receiver.shared, 'one.bin')
        emit(step='one', method='get', run=run, seconds=secs, same=same(src, got),
             cpu_sender=[round(cpu_s1[i] - cpu_s0[i], 2) for i in range(2)],
             cpu_receiver=[round(cpu_r1[i] - cpu_r0[i], 2) for i in range(2)],
             rss_sender_kib=vm_hwm_kib(sender.proc.pid), rss_receiver_kib=vm_hwm_kib(receiver.proc.pid))
        lab.stop(receiver)
        lab.stop(sender)
        os.unlink(got)

        # request (XREQ): the file enters the sender's folder just before the request
        sender = lab.start()
        receiver = lab.start()
        staged = os.path.join(tmp, 'staged.bin')
        os.link(src, staged)
        os.sync()
        os.rename(staged, os.path.join(sender.shared, 'one.bin'))
        t0 = time.monotonic()
        receiver.send(f'request one.bin {sender.address}')
        t1, _ = receiver.expect('bytes received.', args.timeout,
                                fail=('not found', 'failed', 'Could not', 'already exists', 'stalled'))
        receiver.expect('SHA-256 verified.', 30)
        _, answer = sender.expect('Response to peer', 10)
        got = os.path.join(receiver.shared, 'one.bin')
        emit(step='one', method='request', run=run, seconds=t1 - t0, same=same(src, got),
             answer=answer.split(':  ', 1)[1].split()[0])
        lab.stop(receiver)
        lab.stop(sender)
        os.unlink(got)
    os.unlink(src)


def xreq_first_byte(port, name, timeout=30):
    """Raw `XREQ NAME 0`: seconds to the answer line and to the first data byte after it."""
    with socket.create_connection(('127.0.0.1', port), timeout=timeout) as s:
        t0 = time.monotonic()
        s.sendall(f'XREQ {name} 0\n'.encode())
        buf, t_line = b'', None
        while True:
            data = s.recv(65536)
            if not data:
                raise RuntimeError(f'closed after {buf[:80]!r}')
            buf += data
            if t_line is None and b'\n' in buf:
                t_line = time.monotonic()
                line, buf = buf.split(b'\n', 1)
            if t_line is not None and buf:
                return t_line - t0, time.monotonic() - t0, line.decode(errors='replace')


def step_ttfb(args, lab, tmp):
    node = lab.start()
    for run in range(1, args.runs + 1):
        name = f'big4-{run}.bin'
        staged = os.path.join(tmp, name)
        write_file(staged, 4 * 1024 * MIB, pattern=True)
        os.sync()  # its writeback is not part of the measurement
        os.rename(staged, os.path.join(node.shared, name))
        t_line, t_byte, line = xreq_first_byte(node.port, name)
        hashing = manifest_seconds(node, name, 300)
        emit(step='ttfb', run=run, line_ms=t_line * 1000, first_byte_ms=t_byte * 1000,
             answer=line, indexer_seconds=hashing)
        os.unlink(os.path.join(node.shared, name))
    lab.stop(node)


def step_rate(args, lab, tmp):
    src = os.path.join(tmp, 'rate.bin')
    write_file(src, args.rate_size)
    sources = start_sources(lab, src, 'rate.bin', 4, extra=['--max-upload-rate', '20M'])
    for run in range(1, args.runs + 1):
        for count in (1, 4):
            emit(step='rate', run=run, sources=count,
                 **fresh_get(lab, src, 'rate.bin', sources[:count], args.timeout))
    lab.stop_all()
    os.unlink(src)


def step_rss(args, lab, tmp):
    src = os.path.join(tmp, 'rss.bin')
    write_file(src, 4 * 1024 * MIB, pattern=True)
    os.sync()
    sources = []
    for count in (1, 8):
        sources += start_sources(lab, src, 'rss.bin', count - len(sources))
        emit(step='rss', sources=count, rss_sources_kib=[vm_hwm_kib(s.proc.pid) for s in sources],
             **fresh_get(lab, src, 'rss.bin', sources, args.timeout,
                         rss_receiver_kib=lambda r: vm_hwm_kib(r.proc.pid)))
    lab.stop_all()
    os.unlink(src)


def step_corrupt(args, lab, tmp):
    src = os.path.join(tmp, 'bad.bin')
    write_file(src, args.rate_size)
    # The 4th has its own copy, so the others keep theirs intact.
    sources = start_sources(lab, src, 'bad.bin', 3) + start_sources(lab, src, 'bad.bin', 1, copy=True)
    # Change one byte in every chunk of source 4, then give the file back its old times, so
    # its indexer keeps the manifest of the good bytes.
    bad = os.path.join(sources[3].shared, 'bad.bin')
    st = os.stat(bad)
    fd = os.open(bad, os.O_RDWR)
    try:
        for off in range(0, st.st_size, MIB):
            os.pwrite(fd, bytes([os.pread(fd, 1, off)[0] ^ 0xff]), off)
    finally:
        os.close(fd)
    os.utime(bad, ns=(st.st_atime_ns, st.st_mtime_ns))
    for run in range(1, args.runs + 1):
        emit(step='corrupt', run=run, bad_source=sources[3].address,
             **fresh_get(lab, src, 'bad.bin', sources, args.timeout, strike_lines=lambda r: [
                 line for line in r.history if 'strike' in line or 'banned' in line]))
    lab.stop_all()
    os.unlink(src)


def spread(values, scale=1.0, digits=3):
    """`median (min-max)` of the runs."""
    v = sorted(x * scale for x in values)
    return f'{statistics.median(v):.{digits}f} ({v[0]:.{digits}f}-{v[-1]:.{digits}f})'


def table(title, columns):
    """A title, a blank line and a markdown table's head."""
    print(title + '\n')
    print('| ' + ' | '.join(columns) + ' |')
    print('|' + '---|' * len(columns))


def report(path, size, rate_size):
    """The markdown tables of docs/benchmarks.md from the JSON lines of a run."""
    rows = [json.loads(line) for line in open(path) if line.startswith('{')]
    errors = [r['error'] for r in rows if 'error' in r]
    by = lambda **kv: [r for r in rows if all(r.get(k) == v for k, v in kv.items())]  # noqa: E731
    med = lambda rs: statistics.median(r['seconds'] for r in rs)  # noqa: E731
    one = {m: by(step='one', method=m) for m in ('cp+fsync', 'socat', 'get', 'request')}
    if all(one.values()):
        table(f'One source, {size // MIB} MiB of random bytes: wall s, median (min-max) of {len(one["get"])} runs',
              ['method', 'wall s', 'MiB/s', 'time / cp+fsync', 'time / socat', 'copy identical (cmp)'])
        for m, rs in one.items():
            print(f'| {m} | {spread([r["seconds"] for r in rs])} | {size / MIB / med(rs):.0f} | '
                  f'{med(rs) / med(one["cp+fsync"]):.2f}x | {med(rs) / med(one["socat"]):.2f}x | '
                  f'{all(r["same"] for r in rs)} |')
        fs = lambda m: spread([r['fsync_seconds'] for r in one[m] if 'fsync_seconds' in r] or [0])  # noqa: E731
        print(f'\n`cp` + fsync split: `cp` {spread([r.get("cp_seconds", 0) for r in one["cp+fsync"]])} s, then '
              f'the fsync {fs("cp+fsync")} s. `socat`, then an fsync of its copy (not timed in its row): '
              f'{fs("socat")} s; `socat` + that fsync: '
              f'{spread([r["seconds"] + r.get("fsync_seconds", 0) for r in one["socat"]])} s. The receiving '
              f'`socat`\'s CPU seconds, user/sys per run: ' +
              ', '.join('/'.join(map(str, r.get('cpu_receiver', []))) for r in one['socat']))
        print('\n`request` answers (sender log): ' + ', '.join(r['answer'] for r in one['request']))
        print('\n`get` CPU seconds, user/sys per run: sender ' +
              ', '.join('/'.join(map(str, r['cpu_sender'])) for r in one['get']) + '; receiver ' +
              ', '.join('/'.join(map(str, r['cpu_receiver'])) for r in one['get']) + '\n')
    ttfb = by(step='ttfb')
    if ttfb:
        table('Never-requested 4 GiB file, raw `XREQ F 0` at once',
              ['run', 'answer', 'answer line ms', 'first data byte ms', 'indexer hashing s'])
        for r in ttfb:
            print(f'| {r["run"]} | `{r["answer"]}` | {r["line_ms"]:.2f} | {r["first_byte_ms"]:.2f} | {r["indexer_seconds"]} |')
        print(f'| median | | {spread([r["line_ms"] for r in ttfb], digits=2)} | '
              f'{spread([r["first_byte_ms"] for r in ttfb], digits=2)} | |\n')
    rate = {n: by(step='rate', sources=n) for n in (1, 4)}
    if all(rate.values()):
        table(f'Sources at --max-upload-rate 20M, {rate_size // MIB} MiB',
              ['sources', 'wall s', 'MiB/s', 'speed-up', 'identical'])
        for n, rs in rate.items():
            print(f'| {n} | {spread([r["seconds"] for r in rs])} | {rate_size / MIB / med(rs):.1f} | '
                  f'{med(rate[1]) / med(rs):.2f}x | {all(r["same"] for r in rs)} |')
        print()
    rss = by(step='rss')
    if rss:
        table('Peak RSS (VmHWM), 4 GiB `get`',
              ['sources', 'wall s', 'receiver MiB', 'sources MiB (highest)', 'identical'])
        for r in rss:
            print(f'| {r["sources"]} | {r["seconds"]:.3f} | {mib(r["rss_receiver_kib"])} | '
                  f'{mib(max(r["rss_sources_kib"]))} | {r["same"]} |')
        print()
    bad = by(step='corrupt')
    if bad:
        print(f'One of 4 sources corrupting every chunk, {rate_size // MIB} MiB\n')
        print(f'wall s {spread([r["seconds"] for r in bad])}; identical: {all(r["same"] for r in bad)}; '
              f'last lines: ' + '; '.join(f'`{r["line"]}`' for r in bad) + '\n')
        for r in bad:
            print(f'run {r["run"]} ({r["bad_source"]} corrupt):')
            for line in r['strike_lines']:
                print(f'    {line}')
    for e in errors:
        print(f'ERROR: {e}')


STEPS = {'one': step_one, 'ttfb': step_ttfb, 'rate': step_rate, 'rss': step_rss, 'corrupt': step_corrupt}


def main():
    ap = argparse.ArgumentParser(description='the swarm benchmark (issue 9)')
    ap.add_argument('--dir', required=True, help='an empty temporary folder (deleted by the caller)')
    ap.add_argument('--node', default='stage/p2p-node')
    ap.add_argument('--steps', default=','.join(STEPS))
    ap.add_argument('--runs', type=int, default=3)
    ap.add_argument('--size', type=int, default=512 * MIB, help='bytes for step one')
    ap.add_argument('--rate-size', type=int, default=256 * MIB, help='bytes for rate and corrupt')
    ap.add_argument('--timeout', type=float, default=600, help='seconds per download, at most')
    ap.add_argument('--log', help='append every console here')
    ap.add_argument('--report', help='print the tables of this run\'s JSON lines, run nothing')
    args = ap.parse_args()
    if args.report:
        report(args.report, args.size, args.rate_size)
        return 0
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    log = open(args.log, 'a', buffering=1) if args.log else None
    lab = Lab(args.dir, args.node, log)
    try:
        for step in args.steps.split(','):
            print(f'== {step}', file=sys.stderr, flush=True)
            STEPS[step](args, lab, args.dir)
        return 0
    except Exception as e:  # one line for the report; the finally ends the nodes
        emit(error=str(e))
        return 1
    finally:
        lab.stop_all()


if __name__ == '__main__':
    sys.exit(main())

#!/usr/bin/env python3
"""What a connection between our nodes costs: the handshake up to TLS, in connections per second.

Starts one node (fresh state folder, --neighbours 0, --quiet) per mode and opens CONNECTIONS
connections to it, one after another, then the same number again from PARALLEL processes at
once. Each connection does what a node of ours does when it connects (docs/protocol.md, "The
extension"):

  -> SRCH :p2p-ext:1\\n             <- 150 :p2p-ext:1 found.
  -> HELLO 127.0.0.1:<P> <caps>\\n   <- HELLO 127.0.0.1:<node port> <its caps>\\n
  tls:   caps overlay/1,tls/1, then a TLS 1.3 client handshake presenting a self-signed Ed25519
         certificate (made here by `openssl req -x509 -newkey ed25519`), as a node's;
  plain: caps overlay/1 only, so the connection stays plain (as with a raw test client);
  then, in both modes, one search round trip (-> SRCH hs-bench\\n <- 450 hs-bench not found.),
  so the node has finished its side of the handshake (it checks the client's Finished and
  certificate before it reads the search), and the connection closes.

P is a port nothing listens on (the HELLO must name the connecting host, 127.0.0.1); with
--neighbours 0 the node never dials it. The same certificate is used for every connection, as
the node pins the first id the address proves.

Reported per mode and phase: connections/s (wall clock), the node's CPU time per connection
(utime + stime from /proc/<pid>/stat over the phase), the clients' CPU per connection, errors,
and the node's peak RSS (VmHWM). Prints a markdown table, then the raw figures as JSON lines.
Every process it starts is ended and its temporary folder deleted, also on SIGTERM.

Usage: bench/tls_handshake.py [--node stage/p2p-node] [--connections N] [--parallel P]
"""
import argparse
import json
import multiprocessing
import os
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer_transfer as pt  # noqa: E402  free_port, wait_listening, vm_hwm_kib

PROBE = b'SRCH :p2p-ext:1\n'
PROBE_FOUND = b'150 :p2p-ext:1 found.'
SEARCH = b'SRCH hs-bench\n'
SEARCH_ANSWER = b'450 hs-bench not found.'
TICKS = os.sysconf('SC_CLK_TCK')


def read_exact(s, n):
    data = b''
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            raise ConnectionError(f'closed after {data!r}')
        data += chunk
    return data


def read_line(s):
    line = b''
    while not line.endswith(b'\n'):
        c = s.recv(1)
        if not c:
            raise ConnectionError(f'closed after {line!r}')
        line += c
        if len(line) > 256:
            raise ValueError(f'no HELLO line: {line!r}')
    return line


STEPS = ('connect', 'probe', 'hello', 'tls', 'search')


def one_connection(port, hello, ctx, steps=None):
    """The handshake of one connection; raises on anything unexpected. With `steps` (a dict of
    lists), appends each step's seconds to it."""
    marks = [time.perf_counter()]
    with socket.create_connection(('127.0.0.1', port), timeout=10) as raw:
        marks.append(time.perf_counter())
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        raw.sendall(PROBE)
        got = read_exact(raw, len(PROBE_FOUND))
        if got != PROBE_FOUND:
            raise ValueError(f'probe answered {got!r}')
        marks.append(time.perf_counter())
        raw.sendall(hello)
        line = read_line(raw)
        caps = line.split()[-1].split(b',') if line.startswith(b'HELLO ') else []
        if b'overlay/1' not in caps:
            raise ValueError(f'no HELLO: {line!r}')
        marks.append(time.perf_counter())
        s = raw
        if ctx:
            s = ctx.wrap_socket(raw, server_hostname=None)
            if s.version() != 'TLSv1.3':
                raise ValueError(f'{s.version()}, not TLSv1.3')
        marks.append(time.perf_counter())
        s.sendall(SEARCH)
        got = read_exact(s, len(SEARCH_ANSWER))
        if got != SEARCH_ANSWER:
            raise ValueError(f'search answered {got!r}')
        marks.append(time.perf_counter())
        if ctx:
            s.close()
    if steps is not None:
        for name, a, b in zip(STEPS, marks, marks[1:]):
            if ctx or name != 'tls':
                steps.setdefault(name, []).append(b - a)


def client_context(cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # self-signed, as the node's: it is the id that counts
    ctx.load_cert_chain(cert, key)
    return ctx


def worker(port, hello, cert, key, count, steps=None):
    """Runs `count` connections; returns (errors, first error, cpu seconds)."""
    ctx = client_context(cert, key) if cert else None
    errors, first = 0, None
    t = os.times()
    for _ in range(count):
        try:
            one_connection(port, hello, ctx, steps)
        except (OSError, ValueError) as e:
            errors += 1
            first = first or repr(e)
    u = os.times()
    return errors, first, (u.user - t.user) + (u.system - t.system)


def node_cpu(pid):
    with open(f'/proc/{pid}/stat') as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def phase(mode, parallel, port, hello, cert, key, n, pid):
    args = (port, hello, cert, key)
    steps = {}
    if parallel == 1:
        c0, t0 = node_cpu(pid), time.monotonic()
        results = [worker(*args, n, steps)]
        wall, cpu = time.monotonic() - t0, node_cpu(pid) - c0
    else:
        # The processes are started before the clock, so it times connections only.
        with multiprocessing.get_context('fork').Pool(parallel) as pool:
            pool.map(abs, range(parallel))
            share = [n // parallel + (1 if i < n % parallel else 0) for i in range(parallel)]
            c0, t0 = node_cpu(pid), time.monotonic()
            results = pool.starmap(worker, [args + (k,) for k in share])
            wall, cpu = time.monotonic() - t0, node_cpu(pid) - c0
    errors = sum(r[0] for r in results)
    return {'mode': mode, 'parallel': parallel, 'connections': n, 'seconds': round(wall, 4),
            'per_second': round(n / wall, 1), 'node_cpu_us': round(cpu / n * 1e6),
            'client_cpu_us': round(sum(r[2] for r in results) / n * 1e6), 'errors': errors,
            'first_error': next((r[1] for r in results if r[1]), None),
            'step_median_ms': {k: round(statistics.median(v) * 1e3, 3) for k, v in steps.items()}}


def main():
    ap = argparse.ArgumentParser(description='connections per second up to TLS, and without TLS')
    ap.add_argument('--node', default='stage/p2p-node')
    ap.add_argument('--connections', type=int, default=1000, help='per phase; default 1000')
    ap.add_argument('--parallel', type=int, default=4, help='client processes of the parallel phase; default 4')
    ap.add_argument('--warmup', type=int, default=20)
    args = ap.parse_args()
    if args.connections < args.parallel or args.parallel < 2:
        ap.error('--parallel must be at least 2 and at most --connections')
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    tmp = tempfile.TemporaryDirectory(prefix='p2p-hs.')
    node = None
    rows = []
    try:
        cert, key = os.path.join(tmp.name, 'client.crt'), os.path.join(tmp.name, 'client.key')
        subprocess.run(['openssl', 'req', '-x509', '-newkey', 'ed25519', '-nodes', '-keyout', key,
                        '-out', cert, '-subj', '/CN=p2p-bench', '-days', '1'],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for mode in ('plain', 'tls'):
            port, unused = pt.free_port(), pt.free_port()
            while unused == port:
                unused = pt.free_port()
            shared, state = os.path.join(tmp.name, mode, 'shared'), os.path.join(tmp.name, mode, 'state')
            os.makedirs(shared)
            node = subprocess.Popen([args.node, '--port', str(port), '--shared', shared, '--state', state,
                                     '--neighbours', '0', '--quiet'],
                                    stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            pt.wait_listening(port, node)
            caps = 'overlay/1,tls/1' if mode == 'tls' else 'overlay/1'
            hello = f'HELLO 127.0.0.1:{unused} {caps}\n'.encode()
            c, k = (cert, key) if mode == 'tls' else (None, None)
            errors, first, _ = worker(port, hello, c, k, args.warmup)
            if errors:
                raise RuntimeError(f'{mode}: warm-up failed: {first}')
            for parallel in (1, args.parallel):
                rows.append(phase(mode, parallel, port, hello, c, k, args.connections, node.pid))
                print(json.dumps(rows[-1]), file=sys.stderr)
            for r in rows:
                if r['mode'] == mode:
                    r['node_peak_rss_kib'] = pt.vm_hwm_kib(node.pid)
            node.stdin.write(b'quit\n')
            node.stdin.close()
            node.wait(timeout=10)
            node = None
    finally:
        if node and node.poll() is None:
            node.kill()
            node.wait()
        tmp.cleanup()

    print('| handshake | clients at once | connections | connections/s | node CPU per connection, us '
          '| client CPU per connection, us | errors | node peak RSS MiB |')
    print('|---|---|---|---|---|---|---|---|')
    for r in rows:
        name = ('probe + HELLOs + TLS 1.3 (Ed25519 both sides)' if r['mode'] == 'tls'
                else 'probe + HELLOs, plain (no tls/1)')
        print(f"| {name} | {r['parallel']} | {r['connections']} | {r['per_second']:.0f} | {r['node_cpu_us']} "
              f"| {r['client_cpu_us']} | {r['errors']} | {r['node_peak_rss_kib'] / 1024:.1f} |")
    for mode_par in sorted({r['parallel'] for r in rows}):
        t = next((r for r in rows if r['mode'] == 'tls' and r['parallel'] == mode_par), None)
        p = next((r for r in rows if r['mode'] == 'plain' and r['parallel'] == mode_par), None)
        if t and p:
            print(f"\n{mode_par} client(s) at once: plain {p['per_second']:.0f} / TLS {t['per_second']:.0f} "
                  f"connections/s = {p['per_second'] / t['per_second']:.2f}x; the node's CPU per connection "
                  f"{t['node_cpu_us']} us with TLS, {p['node_cpu_us']} us plain")
    print('\nmedian ms per step, one client at a time (connect; probe -> 150; HELLO -> HELLO; TLS '
          'handshake; search -> answer):')
    for r in rows:
        if r['step_median_ms']:
            print(f"  {r['mode']}: " + ', '.join(f'{k} {v}' for k, v in r['step_median_ms'].items()))
    print('\nraw:')
    for r in rows:
        print(json.dumps(r))
    return 1 if any(r['errors'] for r in rows) else 0


if __name__ == '__main__':
    sys.exit(main())

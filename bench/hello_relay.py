#!/usr/bin/env python3
"""A TCP relay on 127.0.0.1 for bench/peer_transfer.py: a plain node-to-node transfer without
changing the node.

Our nodes start TLS when both HELLOs list tls/1 (docs/protocol.md, "The extension"), and every
node lists it; a HELLO without tls/1 keeps the connection plain. With --strip-tls the relay
removes tls/1 from the HELLO line in each direction, so both nodes run the plain extension
(XREQ, sendfile on the sender) on this connection. Without it the relay changes no byte: the
same hop with TLS, to tell the relay's own cost from the cost of TLS.

Each connection: the bytes before and including each side's HELLO line pass through userspace
(and are rewritten with --strip-tls); after it, the sender -> requester direction is moved with
splice(2) through a pipe (no copy into this process), the requester -> sender direction (short
request lines) with recv/send. The first bytes the requester sends after the HELLOs tell which
protocol runs: a TLS record starts with 0x16; plain starts with the request line.

Usage: hello_relay.py LISTEN_PORT TARGET_PORT [--strip-tls] [--report FILE]
Prints "ready" once it listens. On SIGTERM it writes one JSON line per connection to FILE:
{"after_hello": "tls"|"plain"|"none", "hellos_rewritten": N, "bytes_to_requester": N}.
"""
import argparse
import fcntl
import json
import os
import signal
import socket
import sys
import threading

HELLO = b'HELLO '
CHUNK = 1 << 20


def rewrite(line, strip):
    """b'HELLO <id> <caps>\\n' without tls/1 in caps (strip), or unchanged."""
    if not strip:
        return line, False
    words = line.rstrip(b'\n').split(b' ')
    if len(words) != 3:
        return line, False
    caps = [c for c in words[2].split(b',') if c != b'tls/1']
    return b' '.join([words[0], words[1], b','.join(caps)]) + b'\n', len(caps) != len(words[2].split(b','))


def until_hello(src, dst, strip, stats, key):
    """Passes bytes src -> dst until the HELLO line has passed (rewritten). Returns bytes read
    after it, or None if src closed first."""
    pending = b''
    while True:
        data = src.recv(65536)
        if not data:
            if pending:
                dst.sendall(pending)
            return None
        pending += data
        i = pending.find(HELLO)
        if i < 0:
            # Keep a tail that could start "HELLO "; forward the rest at once (the probe and its
            # answer must cross before the HELLO is sent).
            keep = 0
            for k in range(min(len(HELLO) - 1, len(pending)), 0, -1):
                if HELLO.startswith(pending[-k:]):
                    keep = k
                    break
            if len(pending) > keep:
                dst.sendall(pending[:len(pending) - keep])
                pending = pending[len(pending) - keep:]
            continue
        end = pending.find(b'\n', i)
        if end < 0:
            if len(pending) - i > 4096:  # not a HELLO line after all
                dst.sendall(pending)
                pending = b''
            continue
        line, changed = rewrite(pending[i:end + 1], strip)
        stats[key] += 1 if changed else 0
        dst.sendall(pending[:i] + line)
        return pending[end + 1:]


def requester_to_sender(req, snd, strip, stats):
    try:
        rest = until_hello(req, snd, strip, stats, 'hellos_rewritten')
        if rest is None:
            return
        first = rest or req.recv(65536)
        if first:
            stats['after_hello'] = 'tls' if first[0] == 0x16 else 'plain'
        while first:
            snd.sendall(first)
            first = req.recv(65536)
    except OSError:
        pass
    finally:
        try:
            snd.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def sender_to_requester(snd, req, strip, stats):
    r, w = os.pipe()
    try:
        fcntl.fcntl(w, fcntl.F_SETPIPE_SZ, CHUNK)  # 1 MiB per splice instead of 64 KiB
    except OSError:
        pass
    try:
        rest = until_hello(snd, req, strip, stats, 'hellos_rewritten')
        if rest is None:
            return
        if rest:
            req.sendall(rest)
            stats['bytes_to_requester'] += len(rest)
        while True:
            n = os.splice(snd.fileno(), w, CHUNK, flags=os.SPLICE_F_MOVE)
            if n == 0:
                break
            left = n
            while left:
                m = os.splice(r, req.fileno(), left, flags=os.SPLICE_F_MOVE)
                left -= m
            stats['bytes_to_requester'] += n
    except OSError:
        pass
    finally:
        os.close(r)
        os.close(w)
        try:
            req.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def serve(conn, target, strip, stats):
    try:
        up = socket.create_connection(('127.0.0.1', target))
    except OSError:
        conn.close()
        return
    for s in (conn, up):
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    a = threading.Thread(target=requester_to_sender, args=(conn, up, strip, stats), daemon=True)
    b = threading.Thread(target=sender_to_requester, args=(up, conn, strip, stats), daemon=True)
    a.start()
    b.start()
    a.join()
    b.join()
    conn.close()
    up.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('listen', type=int)
    ap.add_argument('target', type=int)
    ap.add_argument('--strip-tls', action='store_true')
    ap.add_argument('--report')
    args = ap.parse_args()
    conns = []

    def finish(*_):
        if args.report:
            with open(args.report, 'w') as f:
                for st in conns:
                    f.write(json.dumps(st) + '\n')
        os._exit(0)

    signal.signal(signal.SIGTERM, finish)
    signal.signal(signal.SIGINT, finish)
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(('127.0.0.1', args.listen))
    ls.listen(16)
    print('ready', flush=True)
    while True:
        conn, _ = ls.accept()
        st = {'after_hello': 'none', 'hellos_rewritten': 0, 'bytes_to_requester': 0}
        conns.append(st)
        threading.Thread(target=serve, args=(conn, args.target, args.strip_tls, st), daemon=True).start()


if __name__ == '__main__':
    sys.exit(main())

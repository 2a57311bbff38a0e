#!/usr/bin/env python3
"""The lab's Python reference peer, for the benchmark (docs/benchmarks.md).

handle_peer (SRCH and REQ branches), request_file and recvall are the lab's reference code
(shared/spec/lab.md, Tasks 3 and 4) copied verbatim; everything else is the least glue that
makes them run: a listener that starts handle_peer per connection, and a console that reads
`connect <peer_id>`, `request <filename> <peer_id>` and `quit` from stdin.

Usage: lab_peer.py --port PORT --shared DIR
"""
import argparse
import os
import socket
import struct
import sys
import threading


class LabPeer:
    def __init__(self, port, shared_dir):
        self.host = '127.0.0.1'
        self.port = port
        self.shared_dir = shared_dir
        self.lock = threading.Lock()
        self.evExit = threading.Event()
        self.request_sockets = {}   # outgoing connections: peer_id -> socket
        self.response_sockets = {}  # incoming connections: peer port -> socket

    # ---- glue: listener ----
    def start(self):
        self.server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind((self.host, self.port))
        self.server.listen(128)  # room for the benchmark's 100 peers connecting at once
        threading.Thread(target=self.accept_loop, daemon=True).start()
        print(f'Node listening on {self.host}:{self.port}', flush=True)

    def accept_loop(self):
        while not self.evExit.is_set():
            try:
                response_socket, addr = self.server.accept()
            except OSError:
                return
            peer_id = addr[1]
            with self.lock:
                self.response_sockets[peer_id] = response_socket
            threading.Thread(target=self.serve, args=(response_socket, peer_id), daemon=True).start()

    def serve(self, response_socket, peer_id):
        try:
            self.handle_peer(response_socket, peer_id)
        except (OSError, KeyError, IndexError, UnicodeDecodeError):
            pass

    # ---- the lab's reference code, verbatim (Task 3 handle_peer with the Task 4 REQ branch) ----
    # Function to handle file searches and requests from connected peers
    # - SRCH filename
    # - REQ filename
    def handle_peer(self, response_socket, peer_id):
        while not self.evExit.is_set():
            msg = response_socket.recv(1024)
            if not msg:
                print(f'Peer {peer_id} closed connection.')
                with self.lock:
                    self.response_sockets.pop(peer_id)
                break
            print(f"Received message from {peer_id}: {msg}")
            cmds = msg.decode().strip().split()

            # 1. handle SRCH filename
            if (len(cmds) == 0) or (not cmds[0]):
                print('Empty message.')
            elif (cmds[0] == 'SRCH') and cmds[1]:
                filename = cmds[1]
                file_path = os.path.join(self.shared_dir, filename)
                if os.path.exists(file_path):
                    hint = f'150 {filename} found.'
                else:
                    hint = f'450 {filename} not found.'
                print(f"Response to peer {peer_id}:  {hint}")
                response_socket.sendall(hint.encode())

            # 2. handle REQ file name
            elif (cmds[0] == 'REQ') and cmds[1]:
                filename = cmds[1]  # glue: the lab's snippet uses `filename` as set by the SRCH branch
                # Handle REQ file name in `handle_peer`
                file_path = os.path.join(self.shared_dir, filename)
                if os.path.exists(file_path):
                    # let's use TCP stream framing `Length-prefix` here
                    # since you don't close the connection after each request
                    hint = f'250 {filename} found.'
                    lhint = f'{hint:40}' # 40 bytes for the response
                    data = b''
                    with open(file_path, 'rb') as f:
                        data = f.read()
                    data_length = len(data)
                    msg = lhint.encode() + struct.pack('!I', data_length) + data
                    print(f"Response to peer {peer_id}:  {hint} Length in bytes: {data_length}")
                    response_socket.sendall(msg)
                else:
                    hint = f'550 {filename} not found.'
                    lhint = f'{hint:40}' # 40 bytes for the response
                    print(f"Response to peer {peer_id}:  {hint}")
                    response_socket.sendall(lhint.encode())
            else:
                print('Unknown message.')
                pass

    # Function to request a file from another peer
    def request_file(self, peer_id, filename):
        msg = f'REQ {filename}'
        # requests a specific file from a peer.
        self.request_sockets[peer_id].sendall(msg.encode())

        # Receive response
        # Receive and Save the File
        response = self.recvall(peer_id, 40)
        if response[:3] == b'250':
            prefix = self.recvall(peer_id, 4)
            data_length = struct.unpack('!I', prefix)[0]
            data = self.recvall(peer_id, data_length)

            file_path = os.path.join(self.shared_dir, filename)
            with open(file_path, 'wb') as f:
                f.write(data)
            print(f"{response[4:-1].decode().strip()[:-1]} on {peer_id}. {data_length} bytes received.")
        else:
            print(f"{response[4:-1].decode().strip()[:-1]} on {peer_id}.")
    # receive a block of message with specified length
    def recvall(self, peer_id, length):
        blocks = []
        while length:
            block = self.request_sockets[peer_id].recv(length)
            if not block:
                print(f'Peer {peer_id} disconnected.')
                # remove peers disconnected
                with self.lock:
                    self.request_sockets.pop(peer_id)

                raise EOFError('socket closed with {} bytes left'
                            ' in this block'.format(length))
            length -= len(block)
            blocks.append(block)
        return b''.join(blocks)

    # ---- glue: the lab's Task 2 connect reference code, and a console for it ----
    def connect(self, peer_id):
        print(f'Connect to peer {peer_id}:')
        hint = ''
        with self.lock:
            if peer_id in self.request_sockets:
                hint = f'Peer {peer_id} is already connected.'
            else:
                request_socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                try:
                    request_socket.connect((self.host, peer_id))
                    hint = f'Peer {peer_id} connected.'
                    self.request_sockets[peer_id] = request_socket
                except socket.error as e:
                    hint = f'Peer {peer_id} is inactive.'
        print(hint)

    def console(self):
        for line in sys.stdin:
            commands = line.split()
            if not commands:
                continue
            if commands[0] == 'connect' and len(commands) == 2:
                self.connect(int(commands[1]))
            elif commands[0] == 'request' and len(commands) == 3:
                print(f'Request file {commands[1]} from peer {commands[2]}:')
                try:
                    self.request_file(int(commands[2]), commands[1])
                except (OSError, KeyError, EOFError) as e:
                    print(f'Request failed: {e}')
            elif commands[0] == 'quit':
                break
            else:
                print('Unknown command.')
        self.evExit.set()
        with self.lock:
            for s in list(self.request_sockets.values()) + list(self.response_sockets.values()):
                s.close()
        self.server.close()
        print('All sockets closed. Exiting program.')


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--port', type=int, required=True)
    parser.add_argument('--shared', required=True)
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # each line is read by the benchmark as it comes
    peer = LabPeer(args.port, args.shared)
    peer.start()
    peer.console()


if __name__ == '__main__':
    main()

#!/usr/bin/python3
# An independent OpenDHT client (python3-opendht) reading a node's announcement, as anyone may:
#   dht_read.py BOOTSTRAP_HOST:PORT NETWORK KEY_TEXT WANTED_VALUE
# Prints "FOUND <value>" and exits 0 when WANTED_VALUE is among the raw values under
# InfoHash.get(KEY_TEXT); exits 1 after about 20 s without it. test_dht.cpp runs it.
import sys
import time

import opendht as dht

bootstrap, network, key, wanted = sys.argv[1:5]
config = dht.DhtConfig()
config.setNetwork(int(network, 0))
runner = dht.DhtRunner()
runner.run(port=0, config=config)
host, port = bootstrap.rsplit(":", 1)
runner.bootstrap(host, port)
found = None
deadline = time.monotonic() + 20
while found is None and time.monotonic() < deadline:
    values = runner.get(dht.InfoHash.get(key))  # blocking: ends when the lookup is done
    texts = [bytes(v.data).decode("utf-8", "replace") for v in values]
    if wanted in texts:
        found = wanted
    else:
        time.sleep(0.5)
runner.join()
if found is None:
    print("NOT FOUND; values seen:", texts if 'texts' in dir() else [])
    sys.exit(1)
print("FOUND", found)

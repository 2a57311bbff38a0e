#!/usr/bin/env python3
"""The folders of src/ and include/p2p/ and what may include what.

Each folder sits on a layer; a file may include headers of its own folder and of folders on
lower layers only. Folders on one layer are independent of each other (the extensions).
The lab's folder is the lab's node alone: it includes nothing above net/.

  tools/layers.py            check every include; print each violation; exit 1 if any
  tools/layers.py --lab      check only that lab/ includes nothing but util/, net/ and lab/
  tools/layers.py --root D   check the tree at D instead of this repository (its self-test)
  tools/layers.py --dot      the folders and their includes as Graphviz DOT
  tools/layers.py --table    the same as a Markdown list, for docs/architecture.md
"""
import pathlib
import re
import sys

# Bottom to top. Keep docs/architecture.md ("Folders and layers") in step.
LAYERS = [
    ["util"],                     # no I/O of the network: files, hashes, threads, output
    ["net"],                      # sockets, TLS and the node identity, peer ids, rate limits
    ["lab"],                      # the lab's node: Tasks 1-4 and the lab's bytes
    ["trust", "dht", "swarm"],    # extensions that need only the lab's node
    ["overlay"],                  # gossip, flooded search, the HELLO handshake
    ["node"],                     # one node: every part wired together, its options
    ["console"],                  # the commands people type
    ["main"],                     # src/main.cpp
]
LAYER_OF = {folder: i for i, layer in enumerate(LAYERS) for folder in layer}
# What the lab's folder may include, spelled out apart from LAYERS: a reordering cannot widen it.
LAB_MAY_INCLUDE = {"util", "net", "lab"}
ROOT = pathlib.Path(__file__).resolve().parent.parent
INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^">]+)[">]', re.M)
# Our headers are included as "p2p/<folder>/<name>.hpp", <...> alike; a path with "../" or a
# header of ours outside a folder would slip past the folder check, so each is a violation.
ODD = "?"


def folder_of(path):
    rel = path.relative_to(ROOT)
    parts = rel.parts
    if parts[0] == "src" and len(parts) == 2:
        return "main"
    if parts[0] == "src":
        return parts[1]
    return parts[2]  # include/p2p/<folder>/x.hpp


def sources():
    for base in (ROOT / "src", ROOT / "include" / "p2p"):
        for path in sorted(base.rglob("*.[ch]pp")):
            yield path


def edges():
    """(file, its folder, included folder) for every include of one of our headers."""
    for path in sources():
        here = folder_of(path)
        for m in INCLUDE.finditer(path.read_text()):
            target = m.group(1)
            parts = target.split("/")
            if "../" in target or target.startswith("./"):
                yield path.relative_to(ROOT), here, ODD + target
            elif parts[0] == "p2p":
                yield path.relative_to(ROOT), here, parts[1] if len(parts) > 2 else ODD + target


def check_lab():
    bad = 0
    for path, here, there in edges():
        if here == "lab" and there.startswith(ODD):
            print(f"{path}: includes \"{there[1:]}\" (ours are included as p2p/<folder>/<name>.hpp)")
            bad += 1
        elif here == "lab" and there not in LAB_MAY_INCLUDE:
            print(f"{path}: the lab's node includes p2p/{there}/ (it may include only "
                  f"{', '.join(sorted(LAB_MAY_INCLUDE))})")
            bad += 1
    print(f"lab: {bad} include(s) of an extension")
    return 1 if bad else 0


def check():
    bad = 0
    for path, here, there in edges():
        if there.startswith(ODD):
            print(f"{path}: includes \"{there[1:]}\" (ours are included as p2p/<folder>/<name>.hpp)")
            bad += 1
        elif here not in LAYER_OF or there not in LAYER_OF:
            unknown = here if here not in LAYER_OF else there
            print(f"{path}: folder '{unknown}' is on no layer (tools/layers.py LAYERS)")
            bad += 1
        elif here != there and LAYER_OF[there] >= LAYER_OF[here]:
            how = "a folder on the same layer" if LAYER_OF[there] == LAYER_OF[here] else "upward"
            print(f"{path}: includes p2p/{there}/ ({how}: {here}/ is on layer {LAYER_OF[here]}, "
                  f"{there}/ on layer {LAYER_OF[there]})")
            bad += 1
    for folder in LAYER_OF:
        if folder != "main" and not (ROOT / "src" / folder).is_dir() and not (ROOT / "include" / "p2p" / folder).is_dir():
            print(f"tools/layers.py: folder '{folder}' is listed but does not exist")
            bad += 1
    print(f"layers: {bad} violation(s)")
    return 1 if bad else 0


def folder_graph():
    graph = {}
    for _, here, there in edges():
        if here != there and not there.startswith(ODD):
            graph.setdefault(here, set()).add(there)
    return graph


def dot():
    graph = folder_graph()
    print("digraph folders {\n  rankdir=BT; node [shape=box];")
    for i, layer in enumerate(LAYERS):
        print("  { rank=same; " + " ".join(f'"{f}"' for f in layer) + "; }")
    for here in sorted(graph):
        for there in sorted(graph[here]):
            print(f'  "{here}" -> "{there}";')
    print("}")


def table():
    graph = folder_graph()
    for i, layer in reversed(list(enumerate(LAYERS))):
        for folder in layer:
            uses = ", ".join(f"{f}/" for f in sorted(graph.get(folder, ()), key=lambda f: -LAYER_OF[f]))
            print(f"- layer {i}: `{folder}/` uses {uses or 'nothing of ours'}")


if __name__ == "__main__":
    if "--root" in sys.argv:
        i = sys.argv.index("--root")
        ROOT = pathlib.Path(sys.argv[i + 1]).resolve()
        del sys.argv[i:i + 2]
    if "--lab" in sys.argv:
        sys.exit(check_lab())
    if "--dot" in sys.argv:
        dot()
    elif "--table" in sys.argv:
        table()
    elif len(sys.argv) > 1:
        print(__doc__.strip())
        sys.exit(0 if sys.argv[1] in ("-h", "--help") else 2)
    else:
        sys.exit(check())

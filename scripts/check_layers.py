#!/usr/bin/env python3
"""The folders of src/ depend one way: a file may include headers of its own
folder and of folders below it in LAYERS, never of a folder above it.
Prints every include that breaks the order and exits 1 if there is one."""
import pathlib
import re
import sys

# Bottom first. doc/architecture.md explains each layer.
LAYERS = ["pg", "util", "graph", "config", "syscat", "registry", "changes", "shmem", "tableview",
          "analysis", "capture", "engine", "watch", "commit", "worker", "create", "alter", "ddl", "api"]

src = pathlib.Path(__file__).resolve().parent.parent / "src"
rank = {name: i for i, name in enumerate(LAYERS)}
bad = []
for path in sorted(src.rglob("*.[ch]pp")):
    folder = path.parent.name if path.parent != src else None
    if folder is None:  # module.cpp: the top, may include anything
        continue
    if folder not in rank:
        bad.append(f"{path.relative_to(src)}: folder {folder} is not in scripts/check_layers.py's LAYERS")
        continue
    for n, line in enumerate(path.read_text().splitlines(), 1):
        m = re.match(r'\s*#include\s+"([a-z_]+)/', line)
        if m and m.group(1) in rank and rank[m.group(1)] > rank[folder]:
            bad.append(f"{path.relative_to(src)}:{n}: {folder} includes {m.group(1)}/ (above it)")
        elif m and m.group(1) not in rank and (src / m.group(1)).is_dir():
            bad.append(f"{path.relative_to(src)}:{n}: include of {m.group(1)}/, a folder not in LAYERS")
for b in bad:
    print(b)
print(f"layers: {len(bad)} include(s) against the order {' < '.join(LAYERS)}")
sys.exit(1 if bad else 0)

#!/usr/bin/env python3
"""Checks doc/monitoring/postgres_exporter.yml against a server with pgview_auto:
each query runs (psql, the connection from PG* variables) and returns exactly
the columns its metrics declare, each with a usage of LABEL, GAUGE or COUNTER
and a description. Prints one line per query; exits 1 if any fails.

Usage: check_exporter.py [FILE]   (default doc/monitoring/postgres_exporter.yml)

The file is read as the subset of YAML postgres_exporter's examples use (no
PyYAML needed): top-level names, `query: |` blocks or one-line quoted queries,
and `metrics:` lists of `- name:` with `usage:` and `description:`."""
import csv
import io
import pathlib
import re
import subprocess
import sys

USAGES = {"LABEL", "GAUGE", "COUNTER", "DISCARD", "DURATION", "MAPPEDMETRIC", "HISTOGRAM"}


def unquote(v):
    v = v.strip()
    if len(v) >= 2 and v[0] == v[-1] and v[0] in "\"'":
        return v[1:-1]
    return v


def parse(text):
    """{name: {"query": str, "metrics": [(column, {key: value})]}}"""
    out, name, block, metric = {}, None, None, None
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        indent = len(line) - len(line.lstrip())
        s = line.strip()
        if indent == 0:
            m = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*):", s)
            if not m:
                raise ValueError(f"line {i}: expected a query name, got {s!r}")
            name = m.group(1)
            out[name] = {"query": None, "metrics": []}
            continue
        if name is None:
            raise ValueError(f"line {i}: indented line before any query name")
        if s.startswith("query:"):
            v = s[len("query:"):].strip()
            if v in ("|", ">", "|-", ">-"):
                body = []
                while i < len(lines) and (not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > indent):
                    body.append(lines[i].strip())
                    i += 1
                out[name]["query"] = "\n".join(body).strip()
            else:
                out[name]["query"] = unquote(v)
            continue
        if s == "metrics:":
            continue
        m = re.fullmatch(r"- ([A-Za-z_][A-Za-z0-9_]*):", s)
        if m:
            metric = (m.group(1), {})
            out[name]["metrics"].append(metric)
            continue
        m = re.fullmatch(r"([a-z_]+):\s*(.*)", s)
        if m and metric is not None:
            metric[1][m.group(1)] = unquote(m.group(2))
            continue
        if m and m.group(1) in ("master", "cache_seconds", "runonserver"):
            continue
        raise ValueError(f"line {i}: not understood: {s!r}")
    return out


def columns(query):
    sql = f"SELECT * FROM ({query.rstrip().rstrip(';')}) AS q"
    r = subprocess.run(["psql", "-X", "-v", "ON_ERROR_STOP=1", "--csv", "-c", sql],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(r.stderr.strip())
    rows = list(csv.reader(io.StringIO(r.stdout)))
    return rows[0] if rows else [], len(rows) - 1


def main():
    path = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else
                        pathlib.Path(__file__).resolve().parent.parent / "doc/monitoring/postgres_exporter.yml")
    try:
        queries = parse(path.read_text())
    except ValueError as e:
        print(f"{path}: {e}")
        return 1
    failed = 0
    if not queries:
        print(f"{path}: no queries")
        return 1
    for name, q in queries.items():
        problems = []
        declared = [m for m, _ in q["metrics"]]
        for m, attrs in q["metrics"]:
            if attrs.get("usage") not in USAGES:
                problems.append(f"{m}: usage {attrs.get('usage')!r}")
            if not attrs.get("description"):
                problems.append(f"{m}: no description")
        if not q["query"]:
            problems.append("no query")
        else:
            try:
                got, nrows = columns(q["query"])
                if sorted(got) != sorted(declared):
                    problems.append(f"returns {got}, declares {declared}")
            except RuntimeError as e:
                problems.append(f"query failed: {e}")
        if problems:
            failed += 1
            print(f"FAILED {name}: " + "; ".join(problems))
        else:
            print(f"ok {name}: {len(declared)} columns, {nrows} rows")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

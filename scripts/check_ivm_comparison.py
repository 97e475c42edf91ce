#!/usr/bin/env python3
"""The README's comparison with pg_ivm quotes what the test command measures.

sql/pg_ivm_suite.sql (the queries pg_ivm 1.15 maintains) and sql/pg_ivm_refused.sql
(those it refuses) end their key analysis with one summary row: how many queries,
how many have every source refreshed by key, how many some source in full, how many
read no table. pg_regress holds each run to its expected file; this script holds the
README's table to those files. It prints the table as it should read and exits 1
when README.md does not hold it between its markers (--write puts it there)."""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
BEGIN = "<!-- pg_ivm comparison: written by scripts/check_ivm_comparison.py from expected/ -->"
END = "<!-- /pg_ivm comparison -->"
ROWS = [
    ("pg_ivm_suite", "maintained by pg_ivm", "pg_ivm_maintains"),
    ("pg_ivm_refused", "refused by pg_ivm", "pg_ivm_refuses"),
]


def summary(test, first_column):
    """The numbers of the summary row of expected/TEST.out (its header starts with first_column)."""
    lines = (ROOT / "expected" / f"{test}.out").read_text().splitlines()
    for i, line in enumerate(lines):
        if line.strip().startswith(first_column + " |"):
            values = [v.strip() for v in lines[i + 2].split("|")]
            if len(values) == 4 and all(v.isdigit() for v in values):
                return [int(v) for v in values]
    sys.exit(f"check_ivm_comparison: no summary row ({first_column} ...) in expected/{test}.out")


def table():
    out = [BEGIN,
           "| pg_ivm 1.15's regression suite, as table views without `unique_key` | queries "
           "| every source refreshed by key | some source in full | read no table |",
           "| --- | ---: | ---: | ---: | ---: |"]
    for test, label, first in ROWS:
        n, by_key, full, none = summary(test, first)
        out.append(f"| {label} ([`sql/{test}.sql`](sql/{test}.sql)) | {n} | {by_key} | {full} | {none} |")
    out.append(END)
    return "\n".join(out)


def main():
    readme = ROOT / "README.md"
    text = readme.read_text()
    want = table()
    m = re.search(re.escape(BEGIN) + r".*?" + re.escape(END), text, re.S)
    if "--write" in sys.argv[1:]:
        if m is None:
            sys.exit("check_ivm_comparison: README.md has no comparison markers")
        readme.write_text(text[:m.start()] + want + text[m.end():])
        print(want)
        return 0
    print(want)
    if m is None or m.group(0) != want:
        print("README.md does not quote these figures (scripts/check_ivm_comparison.py --write puts them there)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

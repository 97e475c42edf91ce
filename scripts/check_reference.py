#!/usr/bin/env python3
"""pgview_auto — doc/reference.md checked against the installed extension.

Connects to a database where the extension is created and fails when the
reference and the catalog disagree:

- functions: every function that belongs to the extension (pg_depend deptype
  'e') has a section "### `name`" (schema-qualified when it is not in the
  extension's schema), except those returning trigger or event_trigger
  (PostgreSQL calls them, never a user); each section names a function that
  exists; each overload's signature, as \\df shows it (name(arguments) RETURNS
  result, from pg_get_function_arguments and pg_get_function_result), is in its
  section (whitespace is free, so long signatures can be wrapped);
- views: every view of the extension has a section "### `name` (view)", and
  each such section names one;
- settings: every pgview_auto.* setting the server knows has a row
  "| `pgview_auto.name` |" in the reference, and each row names one (run it on a
  server with shared_preload_libraries = 'pgview_auto', where all are defined).

    python3 scripts/check_reference.py [--doc doc/reference.md] [--psql PATH] host port user dbname

It asks through psql (no driver needed: the server's own client is there).
"""
import argparse
import os
import re
import subprocess
import sys

EXTENSION = "pgview_auto"


def normalize(text):
    """Whitespace-insensitive form: runs of whitespace become one space, none
    after '(' or before ')'."""
    text = re.sub(r"\s+", " ", text)
    return re.sub(r"\(\s+", "(", re.sub(r"\s+\)", ")", text))


def sections(doc):
    """{heading text: body} for every level-3 heading."""
    out, name, body = {}, None, []
    in_fence = False
    for line in doc.splitlines():
        if line.startswith("```"):
            in_fence = not in_fence
        if not in_fence and line.startswith("#"):
            if name is not None:
                out[name] = "\n".join(body)
            name, body = (line[4:].strip(), []) if line.startswith("### ") else (None, [])
            continue
        if name is not None:
            body.append(line)
    if name is not None:
        out[name] = "\n".join(body)
    return out


class Psql:
    """Queries through psql: rows of tab-separated fields."""

    def __init__(self, psql, host, port, user, dbname):
        self.command = [psql, "-X", "-q", "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1",
                        "-h", host, "-p", str(port), "-U", user, "-d", dbname]

    def rows(self, sql):
        out = subprocess.run(self.command + ["-c", sql], check=True, capture_output=True, text=True).stdout
        return [line.split("\t") for line in out.splitlines()]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--doc", default=os.path.join(os.path.dirname(__file__), "..", "doc", "reference.md"))
    ap.add_argument("--psql", default="psql")
    ap.add_argument("host")
    ap.add_argument("port")
    ap.add_argument("user")
    ap.add_argument("dbname")
    args = ap.parse_args()
    doc = open(args.doc, encoding="utf-8").read()

    db = Psql(args.psql, args.host, args.port, args.user, args.dbname)
    row = db.rows(f"SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = '{EXTENSION}'")
    if not row:
        print(f"the extension {EXTENSION} is not created in database {args.dbname}")
        return 1
    extschema = row[0][0]
    # Names in the extension's schema bare, others qualified (the headings' form).
    qualified = lambda ns, name: (f"CASE WHEN {ns}::regnamespace::text = '{extschema}' THEN '' "
                                  f"ELSE {ns}::regnamespace::text || '.' END || {name}")
    member = ("JOIN pg_depend d ON d.classid = '{catalog}'::regclass AND d.objid = {alias}.oid AND d.deptype = 'e' "
              f"JOIN pg_extension e ON e.oid = d.refobjid AND d.refclassid = 'pg_extension'::regclass "
              f"AND e.extname = '{EXTENSION}'")
    functions = {}
    for name, arguments, result in db.rows(
            f"SELECT {qualified('p.pronamespace', 'p.proname')}, pg_get_function_arguments(p.oid), "
            f"pg_get_function_result(p.oid) FROM pg_proc p {member.format(catalog='pg_proc', alias='p')} "
            "WHERE p.prorettype NOT IN ('trigger'::regtype, 'event_trigger'::regtype) ORDER BY 1, 2"):
        functions.setdefault(name, []).append(f"{name}({arguments}) RETURNS {result}")
    views = {r[0] for r in db.rows(
        f"SELECT {qualified('c.relnamespace', 'c.relname')} FROM pg_class c "
        f"{member.format(catalog='pg_class', alias='c')} WHERE c.relkind = 'v'")}
    settings = {r[0] for r in db.rows(f"SELECT name FROM pg_settings WHERE name LIKE '{EXTENSION}.%'")}

    problems = []
    documented_functions, documented_views = {}, set()
    for heading, body in sections(doc).items():
        m = re.fullmatch(r"`([A-Za-z_][A-Za-z0-9_.]*)`( \(view\))?", heading)
        if not m:
            continue
        if m.group(2):
            documented_views.add(m.group(1))
        else:
            documented_functions[m.group(1)] = body

    for name, signatures in sorted(functions.items()):
        if name not in documented_functions:
            problems.append(f"function {name} has no section \"### `{name}`\"")
            continue
        body = normalize(documented_functions[name])
        for signature in signatures:
            if normalize(signature) not in body:
                problems.append(f"section {name}: the signature as \\df shows it is missing:\n      {signature}")
    for name in sorted(set(documented_functions) - set(functions)):
        problems.append(f"section \"### `{name}`\" names no function of the extension")
    for name in sorted(views - documented_views):
        problems.append(f"view {name} has no section \"### `{name}` (view)\"")
    for name in sorted(documented_views - views):
        problems.append(f"section \"### `{name}` (view)\" names no view of the extension")
    documented_settings = set(re.findall(r"^\| `(pgview_auto\.[a-z_]+)` \|", doc, re.M))
    for name in sorted(settings - documented_settings):
        problems.append(f"setting {name} has no row in the reference's settings table")
    for name in sorted(documented_settings - settings):
        problems.append(f"the settings table names {name}, which the server does not know")

    overloads = sum(len(s) for s in functions.values())
    if problems:
        for p in problems:
            print("   " + p)
        print(f"{len(problems)} problem(s) in {os.path.relpath(args.doc)}")
        return 1
    print(f"{len(functions)} functions ({overloads} signatures), {len(views)} views, "
          f"{len(settings)} settings: each documented, nothing documented that does not exist")
    return 0


if __name__ == "__main__":
    sys.exit(main())

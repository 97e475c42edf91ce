"""Check META.json against the PGXN meta spec 1.0.0 (required keys and their forms),
and against the extension itself (control file version, install script present)."""
import json, os, re, sys

repo = sys.argv[1] if len(sys.argv) > 1 else "."
meta = json.load(open(os.path.join(repo, "META.json")))
errors = []
semver = re.compile(r"^\d+\.\d+\.\d+(-[0-9A-Za-z-]+)?$")
licenses = {"agpl_3", "apache_1_1", "apache_2_0", "artistic_1", "artistic_2", "bsd", "freebsd",
            "gfdl_1_2", "gfdl_1_3", "gpl_1", "gpl_2", "gpl_3", "lgpl_2_1", "lgpl_3_0", "mit",
            "mozilla_1_0", "mozilla_1_1", "openssl", "perl_5", "postgresql", "qpl_1_0", "ssleay",
            "sun", "zlib", "open_source", "restricted", "unrestricted", "unknown"}

for key in ("name", "abstract", "version", "maintainer", "license", "provides", "meta-spec"):
    if key not in meta:
        errors.append(f"missing required key {key}")
if not semver.match(meta.get("version", "")):
    errors.append("version is not a semantic version")
if meta.get("meta-spec", {}).get("version") != "1.0.0":
    errors.append("meta-spec.version must be 1.0.0")
lic = meta.get("license")
if isinstance(lic, str) and lic not in licenses:
    errors.append(f"unknown license {lic}")
if meta.get("release_status", "stable") not in ("stable", "testing", "unstable"):
    errors.append("bad release_status")
if not isinstance(meta.get("maintainer"), (str, list)):
    errors.append("maintainer must be a string or a list")
for ext, p in meta.get("provides", {}).items():
    for k in ("file", "version"):
        if k not in p:
            errors.append(f"provides.{ext} lacks {k}")
    if not semver.match(p.get("version", "")):
        errors.append(f"provides.{ext}.version is not a semantic version")
    if "file" in p and not os.path.exists(os.path.join(repo, p["file"])):
        errors.append(f"provides.{ext}.file {p['file']} does not exist")

control = open(os.path.join(repo, "pgview_auto.control")).read()
default = re.search(r"default_version\s*=\s*'([^']+)'", control).group(1)
if default != meta.get("version") or default != meta["provides"]["pgview_auto"]["version"]:
    errors.append(f"control default_version {default} differs from META.json")
# CREATE EXTENSION reaches default_version by a full script, or by an older full
# script and a chain of update scripts.
scripts = os.listdir(os.path.join(repo, "sql"))
full = {m.group(1) for f in scripts if (m := re.fullmatch(r"pgview_auto--([^-]+)\.sql", f))}
steps = {(m.group(1), m.group(2)) for f in scripts if (m := re.fullmatch(r"pgview_auto--([^-]+)--([^-]+)\.sql", f))}
reachable, frontier = set(full), list(full)
while frontier:
    v = frontier.pop()
    for a, b in steps:
        if a == v and b not in reachable:
            reachable.add(b)
            frontier.append(b)
if default not in reachable:
    errors.append(f"no install script or update path reaches version {default}")

for e in errors:
    print("META.json:", e)
print("ok - META.json" if not errors else "not ok - META.json")
sys.exit(1 if errors else 0)

#!/usr/bin/env python3
"""pgview_auto — every relative link and #anchor of the documentation resolves.

Checks README.md, doc/*.md, test/README.md, CHANGELOG.md and
clients/python/README.md (or the files given): each Markdown link or image
[text](target) whose target is not a URL must name a file or directory that
exists (relative to the linking file), and an #anchor must match a heading of
the target Markdown file as GitHub makes its id: lower case, punctuation other
than '-' and '_' dropped, spaces turned into '-', a repeated heading suffixed
-1, -2, ... Links inside code (fenced blocks, `spans`) are not links.

    python3 scripts/check_links.py [FILE.md ...]
Exit status 1 when a link does not resolve (each one printed).
"""
import glob
import os
import re
import sys

REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
DEFAULT = ["README.md", "doc/*.md", "test/README.md", "CHANGELOG.md", "clients/python/README.md"]
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")


def prose_lines(text):
    """(line number, line) outside fenced code blocks, with code spans blanked."""
    fence = None
    for number, line in enumerate(text.splitlines(), 1):
        m = re.match(r"^\s*(`{3,}|~{3,})", line)
        if m:
            if fence is None:
                fence = m.group(1)[0] * len(m.group(1))
            elif m.group(1).startswith(fence):
                fence = None
            continue
        if fence is None:
            yield number, re.sub(r"(`+)(?:(?!\1).)+\1", "", line)


def slug(heading):
    """GitHub's id for a heading's text."""
    text = re.sub(r"<[^>]+>", "", heading)                       # inline HTML
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)        # links keep their text
    text = text.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)                          # \w keeps letters, digits, _
    return text.replace(" ", "-")


def anchors(path, cache={}):
    if path not in cache:
        seen, ids = {}, set()
        text = open(path, encoding="utf-8").read()
        fence = None
        for line in text.splitlines():
            m = re.match(r"^\s*(`{3,}|~{3,})", line)
            if m:
                fence = None if fence else m.group(1)
                continue
            h = None if fence else re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
            if h:
                base = slug(h.group(1))
                n = seen.get(base, 0)
                ids.add(base if n == 0 else f"{base}-{n}")
                seen[base] = n + 1
        ids.update(re.findall(r"<a\s+(?:name|id)=\"([^\"]+)\"", text))
        cache[path] = ids
    return cache[path]


def main(argv):
    patterns = argv or DEFAULT
    files = sorted({f for p in patterns for f in glob.glob(os.path.join(REPO, p))})
    problems, checked = [], 0
    for path in files:
        rel = os.path.relpath(path, REPO)
        for number, line in prose_lines(open(path, encoding="utf-8").read()):
            for target in LINK.findall(line):
                if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):   # http:, https:, mailto:
                    continue
                checked += 1
                file_part, _, anchor = target.partition("#")
                dest = path if file_part == "" else os.path.normpath(os.path.join(os.path.dirname(path), file_part))
                if not os.path.exists(dest):
                    problems.append(f"{rel}:{number}: {target}: {os.path.relpath(dest, REPO)} does not exist")
                elif anchor and dest.endswith(".md") and anchor not in anchors(dest):
                    problems.append(f"{rel}:{number}: {target}: no heading with id '{anchor}' in "
                                    f"{os.path.relpath(dest, REPO)}")
    for p in problems:
        print("   " + p)
    print(f"{len(files)} files, {checked} relative links, {len(problems)} broken")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

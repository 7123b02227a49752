#!/usr/bin/env python3
"""Every relative link in the project's Markdown resolves.

check_links.py SOURCE_DIR

Reads README.md, ARCHITECTURE.md and docs/*.md. A link [text](target) or
a reference [label]: target that is not a URL must name a file or folder
that exists, relative to the linking file; a #fragment must name a heading
of the target file (GitHub's anchors: lower case, punctuation dropped,
spaces as hyphens, -1, -2 ... for repeats). Links inside code are skipped.
Prints each broken link and exits 1 if there is one.
"""
import pathlib
import re
import sys

INLINE = re.compile(r"!?\[(?:[^\]\[]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$")
FENCE = re.compile(r"^\s{0,3}(```|~~~)")


def prose_lines(text):
    """(line number, line) outside fenced code, with code spans blanked."""
    fence = None
    for n, line in enumerate(text.splitlines(), 1):
        m = FENCE.match(line)
        if m:
            if fence is None:
                fence = m.group(1)
            elif m.group(1) == fence:
                fence = None
            continue
        if fence is None:
            yield n, re.sub(r"(`+)(?:(?!\1).)+?\1", "", line)


def anchors(path, cache={}):
    if path not in cache:
        seen = {}
        found = set()
        for _, line in prose_lines(path.read_text(encoding="utf-8")):
            m = re.match(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$", line)
            if not m:
                continue
            slug = re.sub(r"[^\w\- ]", "", m.group(1).strip().lower()).replace(" ", "-")
            count = seen.get(slug, 0)
            seen[slug] = count + 1
            found.add(slug if count == 0 else f"{slug}-{count}")
        for html in re.findall(r'<a\s+(?:name|id)="([^"]+)"', path.read_text(encoding="utf-8")):
            found.add(html)
        cache[path] = found
    return cache[path]


def check(source, path):
    broken = []
    for n, line in prose_lines(path.read_text(encoding="utf-8")):
        targets = [m.group(1) for m in INLINE.finditer(line)]
        m = REFERENCE.match(line)
        if m:
            targets.append(m.group(1))
        for target in targets:
            if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target):
                continue  # http:, https:, mailto: ...
            file_part, _, fragment = target.partition("#")
            dest = path if not file_part else (path.parent / file_part).resolve()
            where = f"{path.relative_to(source)}:{n}: {target}"
            if not dest.exists():
                broken.append(f"{where}: no such file")
            elif not dest.resolve().is_relative_to(source):
                broken.append(f"{where}: outside the source tree")
            elif fragment and dest.suffix == ".md" and fragment not in anchors(dest):
                broken.append(f"{where}: no heading #{fragment} in {dest.relative_to(source)}")
    return broken


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    source = pathlib.Path(sys.argv[1]).resolve()
    files = [source / "README.md", source / "ARCHITECTURE.md"] + sorted((source / "docs").glob("*.md"))
    broken = []
    links = 0
    for f in files:
        if not f.exists():
            broken.append(f"{f.relative_to(source)}: missing")
            continue
        broken += check(source, f)
    for b in broken:
        print(b)
    if broken:
        sys.exit(1)
    print(f"{len(files)} files, every relative link resolves")


if __name__ == "__main__":
    main()

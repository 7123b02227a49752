#!/usr/bin/env python3
"""Checks the counter reference against what the daemons export.

documented_metrics.py REFERENCE SCRAPE...

Every metric family in the scrapes (Prometheus text from --metrics) must
have a row in REFERENCE (docs/counters.md) that names it in backticks, and
every value of a `reason` label a scrape shows must be named in that row.
Its HELP text must say more than its name: a daemon that gave a family no
help text exports the name with spaces (`capture packets` for
tcpcopy_capture_packets_total), which tells a reader nothing.
Prints what is missing and exits 1, or prints the number of families.
"""
import re
import sys

PLACEHOLDERS = set()  # families whose HELP is their own name

def families(path):
    """{family: set of reason values} from one scrape."""
    out = {}
    declared = set()
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("# HELP "):
                _, _, name, *words = line.split()
                placeholder = re.sub(r"^(tcpcopy|intercept)_", "", re.sub(r"_total$", "", name)).replace("_", " ")
                if " ".join(words) == placeholder:
                    PLACEHOLDERS.add(name)
                continue
            if line.startswith("# TYPE "):
                declared.add(line.split()[2])
                out.setdefault(line.split()[2], set())
                continue
            if line.startswith("#") or not line.strip():
                continue
            name = re.match(r"[A-Za-z_:][\w:]*", line).group(0)
            family = next((d for d in declared if name == d or name.startswith(d + "_")), name)
            reasons = out.setdefault(family, set())
            for m in re.finditer(r'reason="((?:[^"\\]|\\.)*)"', line):
                reasons.add(m.group(1))
    return out


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    rows = {}
    with open(sys.argv[1], encoding="utf-8") as f:
        for line in f:
            m = re.match(r"\|\s*`([A-Za-z_:][\w:]*)`\s*\|", line)
            if m:
                rows[m.group(1)] = line
    missing = []
    seen = {}
    for path in sys.argv[2:]:
        for family, reasons in families(path).items():
            seen.setdefault(family, set()).update(reasons)
    for family, reasons in sorted(seen.items()):
        row = rows.get(family)
        if row is None:
            missing.append(f"{family}: no row")
            continue
        for r in sorted(reasons):
            if f"`{r}`" not in row:
                missing.append(f"{family}: reason {r} not named")
    missing += [f"{name}: HELP is only its name" for name in sorted(PLACEHOLDERS)]
    if missing:
        print("\n".join(missing))
        sys.exit(1)
    print(f"{len(seen)} metric families, each with a row naming its reasons")


if __name__ == "__main__":
    main()

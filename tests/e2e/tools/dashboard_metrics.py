#!/usr/bin/env python3
"""Checks the Grafana dashboard against what the daemons export.

dashboard_metrics.py DASHBOARD [SCRAPE...]

The dashboard must parse as JSON and hold at least one query. With scrapes
(Prometheus text from the daemons' --metrics), every metric name that a
panel's expression or a variable's label_values() names must be a sample
name in one of them (a histogram's _bucket, _sum and _count included).
Prints the names it found and exits 1 on the first kind of failure.
"""
import json
import re
import sys

# PromQL words that look like metric names but are not.
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset",
            "and", "or", "unless", "inf", "nan"}
IDENT = re.compile(r"(?<![\w:.$])[A-Za-z_:][\w:]*")


def expressions(node, out):
    """Every panel expr and every variable query, anywhere in the JSON."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("expr", "definition") and isinstance(value, str):
                out.append(value)
            else:
                expressions(value, out)
    elif isinstance(node, list):
        for item in node:
            expressions(item, out)
    return out


def metric_names(expr):
    m = re.match(r"\s*label_values\(\s*([A-Za-z_:][\w:]*)", expr)
    if m:
        return {m.group(1)}
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', "", expr)           # strings
    expr = re.sub(r"\{[^}]*\}", "", expr)                     # label matchers
    expr = re.sub(r"\[[^\]]*\]", "", expr)                    # ranges
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr)
    names = set()
    for m in IDENT.finditer(expr):
        word = m.group(0)
        rest = expr[m.end():].lstrip()
        if rest.startswith("(") or word.lower() in KEYWORDS:
            continue  # a function or aggregation, or a keyword
        names.add(word)
    return names


def scraped(path):
    names = set()
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            names.add(re.split(r"[{\s]", line, maxsplit=1)[0])
    return names


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    try:
        with open(sys.argv[1], encoding="utf-8") as f:
            dashboard = json.load(f)
    except (OSError, ValueError) as e:
        sys.exit(f"{sys.argv[1]}: {e}")
    exprs = expressions(dashboard, [])
    if not exprs:
        sys.exit(f"{sys.argv[1]}: no queries")
    wanted = set()
    for e in exprs:
        wanted |= metric_names(e)
    print(f"{len(exprs)} queries naming {len(wanted)} metrics: {' '.join(sorted(wanted))}")
    if len(sys.argv) == 2:
        return
    exported = set()
    for path in sys.argv[2:]:
        exported |= scraped(path)
    missing = sorted(wanted - exported)
    if missing:
        sys.exit(f"metrics the dashboard queries but no daemon exports: {' '.join(missing)}")


if __name__ == "__main__":
    main()

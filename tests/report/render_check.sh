#!/usr/bin/env bash
# Renders a sample comparison report in headless Chromium and checks that
# the browser laid out the latency plot with both sides' series and that
# the page shows the figures make_sample_report printed (verdict counts,
# status matrix cells, difference groups, the ledger).
#
# usage: render_check.sh PATH/TO/make_sample_report
#
# The page is loaded through a copy with a measuring script appended (the
# report itself has no script): it writes the size of each series as the
# browser drew it into the DOM that --dump-dom prints. Works as root
# (--no-sandbox) with a throwaway HOME and profile.
set -euo pipefail

tool=${1:?usage: render_check.sh PATH/TO/make_sample_report}
browser=$(command -v chromium || command -v chromium-browser || true)
if [[ -z $browser ]]; then
  echo "render_check: chromium not found (scripts/install-deps.sh installs it)" >&2
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/home" "$work/profile"

"$tool" "$work/report.html" >"$work/figures.jsonl"

# The measured copy: the report as written, plus a script at the end of body.
python3 - "$work/report.html" "$work/measured.html" <<'PY'
import sys
page = open(sys.argv[1], encoding="utf-8").read()
script = """<pre id="render-measure"></pre><script>
(function () {
  const out = {};
  for (const side of ["online", "target"]) {
    const path = document.getElementById("series-" + side);
    if (!path) continue;
    const box = path.getBBox();
    out[side] = {width: box.width, height: box.height, length: path.getTotalLength()};
  }
  const svg = document.getElementById("latency-plot");
  if (svg) { const r = svg.getBoundingClientRect(); out.svg = {width: r.width, height: r.height}; }
  document.getElementById("render-measure").textContent = JSON.stringify(out);
})();
</script>"""
assert page.count("</body>") == 1, "report has no single </body>"
open(sys.argv[2], "w", encoding="utf-8").write(page.replace("</body>", script + "</body>"))
PY

if ! HOME=$work/home timeout 90 "$browser" --headless --no-sandbox --disable-gpu --no-first-run \
  --user-data-dir="$work/profile" --dump-dom "file://$work/measured.html" >"$work/dom.html" 2>"$work/chromium.log"; then
  echo "render_check: chromium failed; its log:" >&2
  tail -n 30 "$work/chromium.log" >&2
  exit 1
fi

python3 - "$work/dom.html" "$work/figures.jsonl" <<'PY'
import json
import sys
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Dom(HTMLParser):
    """Every element with its attributes and text content."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.elements = []
        self.stack = []

    def handle_starttag(self, tag, attrs):
        element = {"tag": tag, "attrs": dict(attrs), "text": ""}
        self.elements.append(element)
        if tag not in VOID:
            self.stack.append(element)

    def handle_startendtag(self, tag, attrs):
        self.elements.append({"tag": tag, "attrs": dict(attrs), "text": ""})

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i]["tag"] == tag:
                del self.stack[i:]
                break

    def handle_data(self, data):
        for element in self.stack:
            element["text"] += data


dom = Dom()
dom.feed(open(sys.argv[1], encoding="utf-8").read())
figures = [json.loads(line) for line in open(sys.argv[2], encoding="utf-8") if line.strip()]
failures = []
checked = 0


def check(ok, what):
    global checked
    checked += 1
    if not ok:
        failures.append(what)


def by_id(ident):
    found = [e for e in dom.elements if e["attrs"].get("id") == ident]
    return found[0] if len(found) == 1 else None


def number(element):
    return element["text"].replace("\xa0", " ").strip()


# The plot, as the browser laid it out.
check(by_id("latency-plot") is not None and by_id("latency-plot")["tag"] == "svg", "no svg#latency-plot")
measure = by_id("render-measure")
sizes = json.loads(measure["text"]) if measure and measure["text"].strip() else {}
check("svg" in sizes and sizes["svg"]["width"] > 300 and sizes["svg"]["height"] > 150, f"plot not laid out: {sizes}")
for side in ("online", "target"):
    s = sizes.get(side)
    check(s is not None and s["width"] > 50 and s["height"] > 50 and s["length"] > 100,
          f"{side} series not drawn: {s}")

for f in figures:
    kind = f["kind"]
    if kind == "verdict":
        e = by_id("verdict-" + f["verdict"])
        check(e is not None and e["attrs"].get("data-count") == str(f["count"]) and number(e) == str(f["count"]),
              f"verdict {f['verdict']}: page {e and (e['attrs'].get('data-count'), number(e))}, expected {f['count']}")
    elif kind == "status":
        cells = [e for e in dom.elements if e["attrs"].get("data-online") == f["online"]
                 and e["attrs"].get("data-target") == f["target"]]
        check(len(cells) == 1 and cells[0]["attrs"].get("data-count") == str(f["count"])
              and number(cells[0]) == str(f["count"]),
              f"status {f['online']} -> {f['target']}: page {[(c['attrs'].get('data-count'), number(c)) for c in cells]}, expected {f['count']}")
    elif kind == "side":
        path = by_id("series-" + f["side"])
        check(path is not None and path["attrs"].get("data-samples") == str(f["samples"]),
              f"series {f['side']}: samples {path and path['attrs'].get('data-samples')}, expected {f['samples']}")
        count = by_id(f"latency-{f['side']}-count")
        check(count is not None and number(count) == str(f["samples"]), f"latency {f['side']} count")
    elif kind == "group":
        rows = [e for e in dom.elements if e["tag"] == "tr" and e["attrs"].get("data-label") == f["label"]]
        row_total = None
        if len(rows) == 1:
            # The row's total cell is the first element with data-total after it.
            start = dom.elements.index(rows[0])
            row_total = next((e for e in dom.elements[start:] if "data-total" in e["attrs"]), None)
        check(row_total is not None and row_total["attrs"]["data-total"] == str(f["total"])
              and number(row_total) == str(f["total"]),
              f"group {f['label']!r}: {len(rows)} rows, total {row_total and row_total['attrs']['data-total']}, expected {f['total']}")
    elif kind == "ledger":
        e = by_id("ledger-" + f["id"])
        check(e is not None and e["attrs"].get("data-count") == str(f["count"]) and number(e) == str(f["count"]),
              f"ledger {f['id']}: page {e and e['attrs'].get('data-count')}, expected {f['count']}")

# Every cell the page shows is one the figures expect.
shown_cells = [e for e in dom.elements if "data-online" in e["attrs"]]
check(len(shown_cells) == sum(1 for f in figures if f["kind"] == "status"),
      f"status matrix shows {len(shown_cells)} cells")
shown_groups = [e for e in dom.elements if e["tag"] == "tr" and "data-label" in e["attrs"]]
check(len(shown_groups) == sum(1 for f in figures if f["kind"] == "group"), f"page shows {len(shown_groups)} groups")
# Text from traffic stayed text.
check(not any(e["tag"] == "b" for e in dom.elements), "a <b> from a request label became an element")

if failures:
    for line in failures:
        print("render_check: FAIL " + line, file=sys.stderr)
    sys.exit(1)
print(f"render_check: {checked} checks passed ({len(figures)} figures)")
PY

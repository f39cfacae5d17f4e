"""The HTML page of `tightrope facts`: one table of published facts against the model.

A standalone page (no script, no network): the catalogue and how it was run, the counts
of facts passed, and per fact its statement, reference, scenario, output, criterion, the
measured mean with its 95% interval, and the verdict, in the catalogue's order.
"""

from __future__ import annotations

import html
from pathlib import Path

from tightrope.experiments.facts import FactsResult
from tightrope.results import intervals
from tightrope.results.storage import write_text_atomic

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; max-width: 90rem; }
table { border-collapse: collapse; width: 100%; font-size: 0.9rem; }
th, td { border-bottom: 1px solid #ddd; padding: 0.4rem 0.5rem; text-align: left;
         vertical-align: top; }
th { background: #f4f4f4; }
td.num { text-align: right; white-space: nowrap; }
.pass { color: #1a7f37; font-weight: 600; }
.fail { color: #b42318; font-weight: 600; }
.unsure { color: #8a6d00; font-size: 0.8rem; display: block; font-weight: 400; }
.ref, .note { color: #555; font-size: 0.8rem; }
"""


def facts_html(res: FactsResult) -> str:
    """The page's HTML text."""
    c = res.counts()
    esc = html.escape
    rows = []
    for r in res.rows:
        paired = r["than"] is not None or r["than_metric"] is not None
        measured = intervals.text(r["mean"], r["ci_low"], r["ci_high"], paired)
        what = esc(r["scenario"]) + (f" − {esc(r['than'])}" if r["than"] else "")
        verdict = f'<span class="{r["verdict"]}">{r["verdict"]}</span>'
        if not r["certain"]:
            verdict += '<span class="unsure">the interval straddles the criterion</span>'
        used = "yes" if r["calibration"] else "no"
        note = f'<div class="note">{esc(r["note"])}</div>' if r["note"] else ""
        rows.append(
            "<tr>"
            f'<td id="{esc(r["id"])}"><b>{esc(r["id"])}</b></td>'
            f'<td>{esc(r["statement"])}<div class="ref">{esc(r["reference"])}</div>{note}</td>'
            f"<td>{what}</td><td><code>{esc(r['metric'])}</code></td>"
            f'<td class="num">{esc(r["criterion"])}</td><td class="num">{esc(measured)}</td>'
            f'<td class="num">{r["n"]}</td><td>{verdict}</td><td>{used}</td>'
            "</tr>"
        )
    seeds = ", ".join(str(s) for s in res.seeds)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Tightrope facts: {esc(res.title or res.label)}</title>
<style>{_STYLE}</style></head>
<body>
<h1>Published facts against the model</h1>
<p><b>{esc(res.title)}</b> ({esc(res.label)}, version {res.version}).
{res.users:,} users, {intervals.number(res.days)} days, {len(res.seeds)} replicates per
scenario with the same seeds ({esc(seeds)}): comparisons are paired.
Each measured value is the mean over replicates with its 95% interval
({esc(intervals.label(0.95))}); the verdict reads the mean.</p>
<p id="counts">Passed: <b>{c["all_passed"]} of {c["all_total"]}</b>;
used in calibration: {c["calibration_passed"]} of {c["calibration_total"]};
other facts: {c["other_passed"]} of {c["other_total"]}.</p>
<table id="facts">
<thead><tr><th>fact</th><th>statement and source</th><th>scenario</th><th>output</th>
<th>criterion</th><th>measured</th><th>n</th><th>verdict</th><th>used in calibration</th>
</tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody></table>
</body></html>
"""


def write_facts_page(res: FactsResult, path: str | Path) -> Path:
    """Write the page to `path` atomically; return the path."""
    return write_text_atomic(path, facts_html(res))

"""A self-contained HTML report of an evaluation run.

One file, no external assets: the metrics table, bar charts rendered by matplotlib
into base64 PNGs, the comparison with other systems or an earlier run, and every
failed question with the answer given, the gold answers and the top passages.
All text from the test set, the articles and the answers is HTML-escaped.
"""

from __future__ import annotations

import base64
import html
import io
import re
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .evaluate import (
    METRICS,
    OVERALL,
    RATIO_METRICS,
    Comparison,
    EvalError,
    Metrics,
    QuestionResult,
    Summary,
    format_value,
)

MAX_FAILURES_SHOWN = 300
PASSAGES_SHOWN = 3
OPEN_FAILURES = 3  # the first failed questions are shown unfolded
INSTALL_HINT = "the HTML report needs matplotlib: pip install 'news-assistant[report]' (or pip install matplotlib)"


def require_matplotlib() -> Any:
    """Import matplotlib with a headless backend, or fail with the install hint."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ConfigError(INSTALL_HINT) from None
    return plt


def e(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


# --- charts -------------------------------------------------------------------


def bar_chart_png(title: str, labels: Sequence[str], series: dict[str, Sequence[float | None]], ylabel: str, ratio: bool) -> str:
    """Grouped bars (one group per label, one bar per series) as a base64 PNG."""
    plt = require_matplotlib()
    n = max(1, len(series))
    width = 0.8 / n
    fig, ax = plt.subplots(figsize=(max(6.0, 0.9 * len(labels) * max(1, n / 2) + 2), 4.2), dpi=100)
    try:
        for i, (name, values) in enumerate(series.items()):
            xs = [j + (i - (n - 1) / 2) * width for j in range(len(labels))]
            ys = [0.0 if v is None else v for v in values]
            bars = ax.bar(xs, ys, width=width * 0.95, label=name)
            for bar, v in zip(bars, values):
                text = "n/a" if v is None else (f"{v:.2f}" if ratio else f"{v:.0f}")
                ax.annotate(text, (bar.get_x() + bar.get_width() / 2, bar.get_height()), ha="center", va="bottom", fontsize=7, rotation=90 if n > 2 else 0, xytext=(0, 2), textcoords="offset points")
        ax.set_xticks(range(len(labels)))
        ax.set_xticklabels(labels, rotation=30, ha="right", fontsize=8)
        ax.set_ylabel(ylabel)
        top = max([v for vs in series.values() for v in vs if v is not None] or [1.0])
        ax.set_ylim(0, 1.25 if ratio else max(1.0, top) * 1.2)
        ax.set_title(title)
        ax.legend(fontsize=8, loc="upper right", ncols=min(n, 4))
        ax.grid(axis="y", alpha=0.3)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
    finally:
        plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _img(png_b64: str, alt: str) -> str:
    return f'<img alt="{e(alt)}" src="data:image/png;base64,{png_b64}">'


def charts(summary: Summary, systems: dict[str, Metrics]) -> list[str]:
    out = []
    sections = [OVERALL, *summary.by_lang] if len(summary.by_lang) > 1 else [OVERALL]
    labels = [METRICS[k][0] for k in RATIO_METRICS]
    series = {
        (f"{s} ({summary.questions if s == OVERALL else summary.counts[s]} q)"): [_value(summary.section(s), k) for k in RATIO_METRICS]
        for s in sections
    }
    out.append(_img(bar_chart_png("Metrics by language", labels, series, "score", True), "bar chart of each metric per language"))
    latency_keys = [k for k in METRICS if k.endswith("_ms")]
    lat = {("this system" if systems and s == OVERALL else s): [_value(summary.section(s), k) for k in latency_keys] for s in sections}
    for name, metrics in systems.items():
        lat[name] = [_value(metrics, k) for k in latency_keys]
    if systems:
        both = {"this system": [_value(summary.overall, k) for k in RATIO_METRICS]}
        both.update({name: [_value(m, k) for k in RATIO_METRICS] for name, m in systems.items()})
        out.append(_img(bar_chart_png("This system and the others (overall)", labels, both, "score", True), "bar chart comparing systems"))
    out.append(_img(bar_chart_png("Latency per question", [METRICS[k][0] for k in latency_keys], lat, "milliseconds", False), "latency bar chart"))
    return out


def _value(metrics: Metrics | None, key: str) -> float | None:
    if not metrics or key not in metrics:
        return None
    return metrics[key].value


# --- tables -------------------------------------------------------------------


def metrics_table(summary: Summary, systems: dict[str, Metrics]) -> str:
    sections = [OVERALL, *summary.by_lang]
    head = "".join(f"<th>{e(s)}<br><small>{summary.questions if s == OVERALL else summary.counts[s]} questions</small></th>" for s in sections)
    head += "".join(f"<th>{e(name)}<br><small>overall</small></th>" for name in systems)
    rows = []
    for key, (label, group) in METRICS.items():
        cells = []
        for s in sections:
            m = (summary.section(s) or {}).get(key)
            cells.append(f"<td>{e(format_value(key, m))} <small>({m.count if m else 0})</small></td>")
        for metrics in systems.values():
            m = metrics.get(key)
            cells.append(f"<td>{e(format_value(key, m))} <small>({m.count if m else 0})</small></td>")
        rows.append(f"<tr><td>{e(label)}</td><td class=g>{e(group)}</td>{''.join(cells)}</tr>")
    return f"<table class=metrics><thead><tr><th>metric</th><th>group</th>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def comparison_section(cmp: Comparison) -> str:
    rows = []
    for key, (a, b, d) in cmp.deltas().items():
        if a is None and b is None:
            continue
        cls = ""
        if d is not None and abs(d) >= (0.5 if key.endswith("_ms") else 5e-4):
            good = d < 0 if key.endswith("_ms") else d > 0
            cls = " class=up" if good else " class=down"
        delta = "" if d is None else (f"{d:+.0f}" if key.endswith("_ms") else f"{d:+.3f}")
        rows.append(
            f"<tr><td>{e(METRICS[key][0])}</td><td>{e(format_value(key, cmp.old.overall.get(key)))}</td>"
            f"<td>{e(format_value(key, cmp.new.overall.get(key)))}</td><td{cls}>{e(delta)}</td></tr>"
        )
    parts = [
        "<h2>Compared with the baseline run</h2>",
        f"<p>{len(cmp.better)} question(s) better, {len(cmp.worse)} worse, {len(cmp.other)} with other changes; "
        f"{len(cmp.only_old)} only in the baseline, {len(cmp.only_new)} only in this run.</p>",
        f"<table><thead><tr><th>metric</th><th>baseline</th><th>this run</th><th>delta</th></tr></thead><tbody>{''.join(rows)}</tbody></table>",
    ]
    for title, items in (("Worse", cmp.worse), ("Better", cmp.better), ("Other changes", cmp.other)):
        if not items:
            continue
        lis = "".join(
            f"<li><b>{e(c.id)}</b> {e(c.question)}<br><small>{e(c.what)}</small>"
            f"<div class=ans><span>before:</span> {e(c.old_answer)}</div><div class=ans><span>now:</span> {e(c.new_answer)}</div></li>"
            for c in items
        )
        parts.append(f"<h3>{e(title)} ({len(items)})</h3><ul class=changes>{lis}</ul>")
    return "\n".join(parts)


def highlight(text: str, needles: Sequence[str]) -> str:
    """Escaped text with the first occurrence of each needle (case and spacing folded) marked."""
    spans: list[tuple[int, int]] = []
    for needle in needles:
        words = needle.split()
        if not words:
            continue
        pattern = r"\s+".join(re.escape(w) for w in words)
        match = re.search(pattern, text, flags=re.IGNORECASE)
        if match:
            spans.append(match.span())
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    out, cursor = [], 0
    for start, end in merged:
        out.append(e(text[cursor:start]))
        out.append(f"<mark>{e(text[start:end])}</mark>")
        cursor = end
    out.append(e(text[cursor:]))
    return "".join(out)


def failure_item(result: QuestionResult, open_: bool = False) -> str:
    case, v, a = result.case, result.verdict, result.answer
    reasons = []
    if v.error:
        reasons.append(f"error: {v.error}")
    if v.refusal_right is False:
        reasons.append("refused an answerable question" if v.refused else "answered an unanswerable question")
    if v.answer_correct is False and not v.refused:
        reasons.append("no gold answer in the answer")
    if v.evidence_found is False and not v.refused:
        reasons.append("no cited quote or passage holds the evidence")
    if v.citations_valid < v.citations:
        reasons.append(f"{v.citations - v.citations_valid} citation(s) not verbatim in their source")
    if v.retrieval_judged:
        reasons.append(f"retrieval: first hit at rank {v.hit_rank}" if v.hit_rank else "retrieval: no hit in the top 10")
    gold = ", ".join(case.answers) if case.answers else ("(unanswerable)" if case.answerable is False else "(no gold answer)")
    needles = [*case.answers, *case.evidence]
    passages = []
    for p in result.ranked[:PASSAGES_SHOWN]:
        passages.append(
            f"<li><small>{e(p.get('source'))} [{e(p.get('start'))}:{e(p.get('end'))}] · {e(p.get('title'))} · score {e(p.get('score'))}</small>"
            f"<div class=passage>{highlight(str(p.get('text', '')), needles)}</div></li>"
        )
    cites = "".join(
        f"<li>[{e(c.get('id'))}] {e(c.get('source'))} [{e(c.get('start'))}:{e(c.get('end'))}]: « {e(c.get('quote'))} »</li>"
        for c in a.get("citations", [])
    )
    evidence = "".join(f"<li>{e(x)}</li>" for x in case.evidence)
    return (
        f"<details class=fail{' open' if open_ else ''}><summary><b>{e(case.id)}</b> <span class=lang>{e(case.lang)}</span> {e(case.question)}"
        f"<br><small class=why>{e('; '.join(reasons))}</small></summary>"
        f"<div class=ans><span>answer:</span> {e(a.get('answer'))}</div>"
        f"<div class=ans><span>gold:</span> {e(gold)}</div>"
        + (f"<div class=ans><span>expected sources:</span> {e(', '.join(case.expected_sources))}</div>" if case.expected_sources else "")
        + (f"<div><span class=k>evidence:</span><ul>{evidence}</ul></div>" if evidence else "")
        + (f"<div><span class=k>citations:</span><ul>{cites}</ul></div>" if cites else "")
        + f"<div><span class=k>top passages:</span><ol>{''.join(passages) or '<li>none</li>'}</ol></div></details>"
    )


# --- the page -----------------------------------------------------------------

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1150px;margin:1.5em auto;padding:0 1em;color:#222}
h1{font-size:1.5em}h2{margin-top:1.6em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.6em 0}td,th{border:1px solid #ddd;padding:.25em .6em;text-align:right;font-size:.9em}
td:first-child,th:first-child,td.g{text-align:left}td.g{color:#777}thead th{background:#f4f4f4}
small{color:#666}img{max-width:100%;display:block;margin:.8em 0;border:1px solid #eee}
details.fail{border:1px solid #e2d6d6;border-radius:4px;margin:.5em 0;padding:.4em .7em;background:#fffafa}
summary{cursor:pointer}.why{color:#a33}.lang{background:#eef;border-radius:3px;padding:0 .3em;font-size:.8em}
.ans span,.k{font-weight:600;color:#555}.ans{margin:.3em 0}.passage{white-space:pre-wrap;font-size:.85em;background:#f8f8f8;padding:.4em;border-radius:3px}
mark{background:#fde68a}.up{color:#070}.down{color:#b00}ul.changes li{margin:.5em 0}.notes{color:#555;font-size:.9em}
"""


def render_report(
    title: str,
    summary: Summary,
    results: Sequence[QuestionResult],
    comparison: Comparison | None = None,
    systems: dict[str, Metrics] | None = None,
    notes: Sequence[str] = (),
) -> str:
    """The whole page as a string. ``systems``: other systems' overall metrics, shown beside this one."""
    systems = dict(systems or {})
    if comparison is not None:
        systems.setdefault("baseline run", comparison.old.overall)
    failed = [r for r in results if r.verdict.passed is False]
    shown = failed[:MAX_FAILURES_SHOWN]
    body = [
        f"<h1>{e(title)}</h1>",
        f"<p class=notes>{e(datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC'))} · {summary.questions} questions · "
        f"{len(failed)} failed · {summary.errors} errors</p>",
    ]
    body += [f"<p class=notes>{e(n)}</p>" for n in notes]
    body += ["<h2>Metrics</h2>", "<p class=notes>value (count it was measured on: questions, or citations for citation validity and source precision)</p>", metrics_table(summary, systems)]
    body += ["<h2>Charts</h2>", *charts(summary, systems)]
    if comparison is not None:
        body.append(comparison_section(comparison))
    body.append(f"<h2>Failed questions ({len(failed)})</h2>")
    if len(failed) > len(shown):
        body.append(f"<p class=notes>the first {len(shown)} are shown; the --output file holds all of them</p>")
    body += [failure_item(r, open_=i < OPEN_FAILURES) for i, r in enumerate(shown)] or ["<p>none</p>"]
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<meta name=viewport content='width=device-width, initial-scale=1'><title>{e(title)}</title>"
        f"<style>{_CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n"
    )


def write_report(path: Path, page: str) -> None:
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(page, encoding="utf-8")
    except OSError as exc:
        raise EvalError(f"cannot write the report {path} ({exc.strerror}); choose another --report path") from None

"""A run written up for someone who will read it, not run it: one HTML file, or Markdown.

The report says what question the scenario asks and what it assumes, in words; gives the
headline numbers with their intervals; shows the phase-timing survival curves, the fan
charts and the distributions; compares runs replication by replication if asked; lists
every parameter with its source; and ends with what is needed to reproduce the run (seed,
replications, versions, the scenario's hash and the command). The HTML file embeds its
images and styles, so it opens anywhere without a network; the Markdown variant writes its
figures into a folder beside it, for pasting into documents.

The labels and the number formatting (money in USD bn, shares in percent, phase years
that were never reached said so) are those of :mod:`sim.model.outputs`, which the command line
prints too.
"""

from __future__ import annotations

import base64
import html
import io
import math
import re
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..analysis.pairing import SHARES_EXPLAINED, labelled_table
from ..experiment.results import atomic_write
from ..model.outputs import display, headline
from .tables import headline_table, probability_table

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..analysis.pairing import Comparison
    from ..experiment.manifest import Manifest
    from ..experiment.results import ResultSet
    from ..scenario.schema import Scenario


def precision_note(record: dict[str, Any]) -> str:
    """What a precision run (``sim run --target-precision``) achieved, in one sentence or two:
    the target met and where, or missed at the cap, with the means still too wide."""
    widths = record.get("relative_half_widths") or {}
    worst = sorted(widths, key=lambda k: -widths[k] if math.isfinite(widths[k]) else -math.inf)

    def described(names: Sequence[str]) -> str:
        return ", ".join(f"{display(k).label} \u00b1{widths[k]:.2%}" if math.isfinite(widths[k])
                         else f"{display(k).label} (no estimate)" for k in names)

    target = f"\u00b1{record['target']:.2%}"
    if record.get("met"):
        return (f"Target precision {target} met at {record['runs']:,} replications (checked every "
                f"{record['check_every']:,}); widest: {described(worst[:3])}.")
    behind = [k for k in worst if not widths[k] < record["target"]]
    return (f"Target precision {target} NOT met: the run stopped at its cap of {record['max_runs']:,} "
            f"replications with these means still wider than the target: {described(behind)}. Their "
            "intervals are wider than asked for; raise --max-runs, or watch fewer means with "
            "--precision-for.")


# --- the scenario in words ------------------------------------------------------------------

def _plain(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _share(value: Any) -> str:
    return f"{value:.0%}" if isinstance(value, float | int) else str(value)


def _place(name: str) -> str:
    return name.replace("_", " ").title()


def scenario_in_words(scn: Scenario) -> list[str]:
    """What a scenario assumes, one sentence per part: dates, projects, the three shock
    families, and the policy levers set away from their defaults."""
    from ..scenario.schema import Levers

    end = scn.start_date.year + scn.horizon_years
    said = [f"Model time starts on {scn.start_date:%d %B %Y} and each replication runs {scn.horizon_years} "
            f"years, to {end}, at a real discount rate of {_plain(scn.discount_rate)} per year."]
    projects = [f"{p.label} ({p.stage}, {_place(p.province)})" for p in scn.projects.values()]
    said.append(f"{len(projects)} projects: {'; '.join(projects)}.")
    sec = scn.shocks.security
    if sec.enabled:
        said.append(f"Security: attacks arrive in {' and '.join(map(_place, sec.provinces))} at their sourced "
                    f"rates, switching between calm and elevated periods, times {_plain(sec.rate_factor)}; "
                    f"security measures prevent {_share(sec.mitigation)} of would-be hits.")
    else:
        said.append("Security shocks are switched off.")
    ref = scn.shocks.refining
    if ref.enabled:
        ban = "in force" if ref.technology_ban else "not in force"
        start = ", ".join(f"{g.replace('_', ' ')} at '{grp.initial_regime}'" for g, grp in ref.groups.items())
        said.append(f"China's refining and export controls start with {start}, with the ban on "
                    f"separation technology {ban}; {len(ref.scheduled)} scheduled change(s), and random "
                    f"escalation and relaxation.")
    else:
        said.append("China's refining controls are held open (the refining shock is switched off).")
    tar = scn.shocks.tariff
    if tar.enabled:
        exempt = "in force" if tar.exemption_active else "withdrawn"
        said.append(f"U.S. tariff: {_share(tar.initial_rate)} reciprocal rate at the start, critical-minerals "
                    f"exemption {exempt}, {len(tar.schedule)} scheduled change(s), policy changes at "
                    f"{_plain(tar.changes_per_year)} per year.")
    else:
        said.append("U.S. tariff shocks are switched off.")
    defaults = Levers()
    levers = [f"{name.replace('_', ' ')} = {_plain(getattr(scn.levers, name))}" for name in Levers.model_fields
              if name != "costs" and getattr(scn.levers, name) != getattr(defaults, name)]
    said.append(f"Policy levers set: {'; '.join(levers)}." if levers else "No policy lever is set away from its default.")
    return said


def reproduce_command(manifest: Manifest) -> str:
    """The ``sim run`` command that makes this run again."""
    words = ["sim", "run", manifest.scenario_file or "SCENARIO.yaml", "--runs", str(manifest.runs),
             "--seed", str(manifest.seed)]
    for text in manifest.overrides:
        words += ["--set", text]
    return shlex.join(words)


# --- the document ---------------------------------------------------------------------------

@dataclass
class _Figure:
    """A figure of the report, drawn only when the report is written (``draw``), so that
    drawing can be reported as it goes."""

    key: str
    caption: str
    draw: Callable[[], Figure]


Step = Callable[[str], None]
"""Told what the report is doing, as it does it ("drawing 3 of 8: ...")."""


def _sections(res: ResultSet, cmp: Comparison | None) -> list[tuple[str, list[Any]]]:
    """The report as sections of blocks: str (a paragraph), list[str] (bullets),
    pd.DataFrame (a table), ("heading" | "note" | "code", text), ("details", summary,
    pd.DataFrame) (a table shown when opened) or _Figure."""
    m = res.manifest
    summary = res.summary()
    question = m.question or res.scenario.description or (
        f"What happens to Pakistan's critical-minerals programme under the scenario {res.name}?")
    reached = summary.set_index("quantity")
    horizon = res.horizon_years
    findings = []
    for phase in (2, 3):
        key = f"phase{phase}_year"
        share = float(pd.Series(res.outcomes[key]).notna().mean())
        median = reached.loc[key, "p50"] if key in reached.index else float("nan")
        when = (f"; half of all replications had reached it by year {median:.1f} (the median time to "
                f"Phase {phase})" if math.isfinite(median) else
                f"; fewer than half reached it, so the median time to Phase {phase} is beyond the horizon"
                if share else "")
        findings.append(f"Phase {phase} was reached within {horizon} years in {share:.0%} of replications{when}.")
    sections: list[tuple[str, list[Any]]] = [
        ("The question", [question,
                          f"The model ran {res.runs:,} replications of this scenario. Each is one possible "
                          "future: the same projects and rules, with attacks, prices, delays and policy "
                          "changes drawn at random. A mean is given with its 95% interval (how precisely "
                          f"{res.runs:,} replications pin it down); P5 to P95 is the spread of futures."]),
        ("The scenario in plain words", [scenario_in_words(res.scenario)]),
        ("Headline numbers", [*([("note", precision_note(m.precision))] if m.precision else []),
                              " ".join(findings), headline_table(summary, headline(res.scenario)),
                              "A phase year's mean is over the replications that reached the phase; its "
                              "percentiles, and the probabilities below, count every replication (a phase not "
                              "reached within the horizon counts as later than any year).",
                              probability_table(summary)]),
        ("Phase timing", [
            "The programme's three phases (demonstration, commercial scaling, significant impact) are "
            "entered when their gates are met. Each curve is the probability that a phase has not yet been "
            "reached, year by year; the shaded windows are when the sources expect each phase to begin.",
            _Figure("phase_survival", "Time to reach Phase 2 and Phase 3 (Kaplan-Meier, 95% bands).",
                    res.plot.survival)]),
    ]
    if not res.timeseries.empty:
        sections.append(("Yearly flows", [
            "Export value and domestic value added by year: the median, and the bands holding 50% and 90% "
            "of replications.",
            _Figure("export_value_fan", "Export value by year.", lambda: res.plot.fan("export_value_usd")),
            _Figure("domestic_value_added_fan", "Domestic value added by year.",
                    lambda: res.plot.fan("domestic_value_added_usd"))]))
    sections.append(("Distributions", [_Figure("outcome_histograms", "Headline outcomes across replications.",
                                               res.plot.hist)]))
    if cmp is not None:
        found = cmp.findings()
        blocks: list[Any] = [
            f"Each run against {cmp.reference}, replication by replication: the runs share their seed and "
            "random numbers, so replication i of each faces the same attacks, prices and delays except where "
            "the scenario changes them. B - A is the mean paired difference, with its 95% interval. "
            + SHARES_EXPLAINED, *(("note", note) for note in cmp.notes)]
        for pair, rows in labelled_table(cmp.table).groupby("compared", sort=False):
            b = str(pair).split(" against ")[0]
            blocks += [("heading", f"{pair} (B = {b})"), ("finding", found[b]), rows.drop(columns="compared")]
        blocks += [_Figure("compare_differences", "Paired differences B - A, per outcome: the spread across "
                           "replications, the mean with its 95% interval, and the better / tie / worse shares.",
                           cmp.plot.differences),
                   _Figure("compare_survival", "Time to reach each phase, compared.", cmp.plot.survival),
                   _Figure("compare_distributions", "Outcome distributions, compared.", cmp.plot.distributions)]
        sections.append(("Comparison", blocks))
    parameters = _parameters(res)
    sections.append(("Parameters and sources", [
        "Every parameter of the scenario after its parent files and overrides, with the source or "
        "assumption written beside it in the scenario file.",
        ("details", f"Show all {len(parameters):,} parameters", parameters)]))
    sections.append(("Provenance", [_provenance(res), "To make this run again:", ("code", reproduce_command(m))]))
    return sections


def parameter_sources(res: ResultSet) -> list[dict[str, Any]]:
    """Every parameter of the run's scenario with its source: as recorded with the run, else
    read from its scenario file if that file (with the run's overrides) still gives the
    scenario that was run; otherwise the values, with the source marked as not recorded."""
    from ..errors import ScenarioError
    from ..experiment.manifest import scenario_digest
    from ..scenario.files import load_scenario
    from ..scenario.reference import parameter_rows, parameter_table

    m = res.manifest
    if m.parameters is not None:
        return list(m.parameters)
    file = m.scenario_file
    if file and Path(file).exists():
        try:
            same = scenario_digest(load_scenario(file, m.overrides)) == m.scenario_sha256
        except ScenarioError:  # the file no longer loads
            same = False
        if same:
            return parameter_table(file, m.overrides)
    return [{**r, "source": "not recorded with this run"} for r in parameter_rows(res.scenario)]


def _parameters(res: ResultSet) -> pd.DataFrame:
    table = pd.DataFrame(parameter_sources(res))
    return table[[c for c in ("path", "value", "unit", "range", "source") if c in table.columns]]


def _provenance(res: ResultSet) -> pd.DataFrame:
    m = res.manifest
    wall = m.wall_seconds if m.wall_seconds is not None else float("nan")
    items = [("scenario", res.name), ("scenario file", m.scenario_file or "not recorded"),
             ("overrides", "; ".join(m.overrides) or "none"),
             ("replications", f"{res.runs:,}"), ("seed", m.seed),
             ("scenario sha256", m.scenario_sha256), ("created (UTC)", m.created_utc),
             ("wall time", f"{wall:.1f} s on {m.workers} worker(s)"),
             ("platform", m.platform),
             ("versions", ", ".join(f"{k} {v}" for k, v in m.versions.items())),
             ("report written", date.today().isoformat())]
    return pd.DataFrame(items, columns=["item", "value"])


def _png(fig: Figure, dpi: int = 110) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def _drawn(sections: list[tuple[str, list[Any]]], step: Step | None) -> dict[str, bytes]:
    """Every figure of the report as PNG, by key, saying which it is drawing as it goes."""
    figures = [b for _, blocks in sections for b in blocks if isinstance(b, _Figure)]
    drawn = {}
    for i, figure in enumerate(figures, 1):
        if step:
            step(f"drawing figure {i} of {len(figures)}: {figure.caption.split(':')[0].rstrip('.')}")
        drawn[figure.key] = _png(figure.draw())
    return drawn


_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
       max-width: 62rem; margin: 2rem auto; padding: 0 1.2rem; color: #1a1a1a; line-height: 1.5; }
h1 { font-size: 1.7rem; margin-bottom: 0.2rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #ddd; }
.subtitle { color: #555; margin-top: 0; }
.note { background: #fff4e5; border-left: 4px solid #e69f00; padding: 0.5rem 0.8rem; }
.finding { font-weight: 600; }
table { border-collapse: collapse; margin: 0.8rem 0 1.2rem; font-size: 0.9rem; }
th, td { padding: 0.3rem 0.6rem; border-bottom: 1px solid #e3e3e3; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } tr:nth-child(even) td { background: #fafafa; }
table.params { font-size: 0.78rem; width: 100%; table-layout: fixed; }
table.params td { overflow-wrap: break-word; }
table.params td:first-child { font-family: ui-monospace, monospace; }
table.params th:nth-child(1) { width: 28%; } table.params th:nth-child(2) { width: 20%; }
table.params th:nth-child(3) { width: 8%; } table.params th:nth-child(4) { width: 10%; }
details { margin: 0.8rem 0 1.2rem; } summary { cursor: pointer; color: #0072b2; }
figure { margin: 1rem 0 1.6rem; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.9rem; }
pre { background: #f5f5f5; padding: 0.6rem 0.8rem; overflow-x: auto; font-size: 0.85rem; white-space: pre-wrap; }
nav { font-size: 0.9rem; } nav a { margin-right: 0.8rem; }
@media print { body { max-width: none; } h2 { break-after: avoid; } figure { break-inside: avoid; }
               details > table { display: table; } }
"""


def _anchor(title: str) -> str:
    return title.lower().replace(" ", "-")


def _cell(value: object) -> str:
    """A table cell's text; a dotted path may break after its dots (and only there)."""
    text = html.escape(str(value))
    return text.replace(".", ".<wbr>") if re.fullmatch(r"[\w<>-]+(\.[\w<>-]+)+", str(value)) else text


def _html_table(frame: pd.DataFrame, css: str = "") -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join("<tr>" + "".join(f"<td>{_cell(v)}</td>" for v in row) + "</tr>"
                   for row in frame.itertuples(index=False))
    return f'<table class="{css}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def render_html(res: ResultSet, cmp: Comparison | None = None, step: Step | None = None) -> str:
    """The report as one self-contained HTML document."""
    parts = []
    sections = _sections(res, cmp)
    pictures = _drawn(sections, step)
    for title, blocks in sections:
        parts.append(f'<h2 id="{_anchor(title)}">{html.escape(title)}</h2>')
        for block in blocks:
            if isinstance(block, str):
                parts.append(f"<p>{html.escape(block)}</p>")
            elif isinstance(block, tuple) and block[0] == "heading":
                parts.append(f"<h3>{html.escape(block[1])}</h3>")
            elif isinstance(block, tuple) and block[0] in ("note", "finding"):
                parts.append(f'<p class="{block[0]}">{html.escape(block[1])}</p>')
            elif isinstance(block, tuple) and block[0] == "details":
                parts.append(f"<details><summary>{html.escape(block[1])}</summary>"
                             f"{_html_table(block[2], 'params')}</details>")
            elif isinstance(block, tuple):
                parts.append(f"<pre><code>{html.escape(block[1])}</code></pre>")
            elif isinstance(block, list):
                parts.append("<ul>" + "".join(f"<li>{html.escape(b)}</li>" for b in block) + "</ul>")
            elif isinstance(block, pd.DataFrame):
                parts.append(_html_table(block))
            else:
                data = base64.b64encode(pictures[block.key]).decode("ascii")
                parts.append(f'<figure><img alt="{html.escape(block.caption)}" src="data:image/png;base64,{data}">'
                             f"<figcaption>{html.escape(block.caption)}</figcaption></figure>")
    nav = " ".join(f'<a href="#{_anchor(t)}">{html.escape(t)}</a>' for t, _ in sections)
    title = f"{res.name}: scenario report"
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{html.escape(title)}</title>"
            f"<style>{_CSS}</style></head><body><h1>{html.escape(title)}</h1>"
            f'<p class="subtitle">Pakistan\'s critical-minerals and rare-earth ramp-up: a Monte Carlo simulation, '
            f"{res.runs:,} replications, seed {res.manifest.seed}.</p><nav>{nav}</nav>"
            + "".join(parts) + "</body></html>\n")


def _md_table(frame: pd.DataFrame) -> str:
    def cell(v: object) -> str:
        return str(v).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(map(cell, frame.columns)) + " |", "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join(map(cell, row)) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines)


def render_markdown(res: ResultSet, cmp: Comparison | None, images: Path, step: Step | None = None) -> str:
    """The report as Markdown; its figures are written as PNG files into ``images`` and
    linked by their path relative to the Markdown file's folder (``images``' parent)."""
    parts = [f"# {res.name}: scenario report", "",
             f"Pakistan's critical-minerals and rare-earth ramp-up: a Monte Carlo simulation, {res.runs:,} "
             f"replications, seed {res.manifest.seed}.", ""]
    sections = _sections(res, cmp)
    pictures = _drawn(sections, step)
    for title, blocks in sections:
        parts += [f"## {title}", ""]
        for block in blocks:
            if isinstance(block, str):
                parts += [block, ""]
            elif isinstance(block, tuple) and block[0] == "heading":
                parts += [f"### {block[1]}", ""]
            elif isinstance(block, tuple) and block[0] == "note":
                parts += [f"> **Note:** {block[1]}", ""]
            elif isinstance(block, tuple) and block[0] == "finding":
                parts += [f"**{block[1]}**", ""]
            elif isinstance(block, tuple) and block[0] == "details":
                parts += [f"<details><summary>{block[1]}</summary>", "", _md_table(block[2]), "", "</details>", ""]
            elif isinstance(block, tuple):
                parts += ["```", block[1], "```", ""]
            elif isinstance(block, list):
                parts += [f"- {b}" for b in block] + [""]
            elif isinstance(block, pd.DataFrame):
                parts += [_md_table(block), ""]
            else:
                target = images / f"{block.key}.png"
                atomic_write(target, lambda p, data=pictures[block.key]: p.write_bytes(data))
                parts += [f"![{block.caption}]({images.name}/{target.name})", ""]
    return "\n".join(parts)


def write_report(res: ResultSet, cmp: Comparison | None, out: Path, fmt: str = "html",
                 step: Step | None = None) -> Path:
    """Write the report to ``out``: HTML (self-contained) or Markdown (figures in
    ``<stem>_files/`` beside it); ``step`` is told what it is doing as it goes. Returns ``out``."""
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "md":
        images = out.with_name(f"{out.stem}_files")
        images.mkdir(exist_ok=True)
        text = render_markdown(res, cmp, images, step)
    else:
        text = render_html(res, cmp, step)
    atomic_write(out, lambda p: p.write_text(text, encoding="utf-8"))
    return out

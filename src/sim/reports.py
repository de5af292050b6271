"""A run written up for someone who will read it, not run it: one HTML file, or Markdown.

The report says what question the scenario asks and what it assumes, in words; gives the
headline numbers with their intervals; shows the phase-timing survival curves, the fan
charts and the distributions; compares runs replication by replication if asked; lists
every parameter with its source; and ends with what is needed to reproduce the run (seed,
replications, versions, the scenario's hash and the command). The HTML file embeds its
images and styles, so it opens anywhere without a network; the Markdown variant writes its
figures into a folder beside it, for pasting into documents.

The number formatting here (money in USD bn, shares in percent, phase years that were
never reached said so) is the one the command line prints too.
"""

from __future__ import annotations

import base64
import html
import io
import math
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from .outputs import HEADLINE, display, format_number
from .results import atomic_write

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from .pairing import Comparison
    from .results import ResultSet
    from .schema import Scenario


# --- numbers as people read them ----------------------------------------------------------

def number(name: str, value: object) -> str:
    """A value scaled as in the plots (USD in bn, shares in %), without its unit."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and math.isnan(value):
        return "not reached" if name.startswith(("phase", "stall")) else "-"
    if isinstance(value, int) and display(name).scale == 1:
        return f"{value:,}"
    if isinstance(value, int | float):
        return format_number(float(value) / display(name).scale, small_digits=3)
    return str(value)


def unit(name: str) -> str:
    """The unit written after a number of ``name`` ("yr", "USD bn", "%", or "count")."""
    return display(name).short_unit.strip() or "count"


def headline_table(summary: pd.DataFrame, names: Sequence[str] = HEADLINE) -> pd.DataFrame:
    """The headline outcomes of a summary as text: mean with its 95% interval, and the
    5th, 50th and 95th percentiles across replications."""
    rows = summary.set_index("quantity")
    out = []
    for name in names:
        if name not in rows.index:
            continue
        r = rows.loc[name]
        out.append({"outcome": display(name).label, "unit": unit(name),
                    "mean (95% interval)": f"{number(name, r['mean'])} ({number(name, r['ci95_low'])} to "
                                           f"{number(name, r['ci95_high'])})",
                    "P5": number(name, r["p5"]), "median": number(name, r["p50"]), "P95": number(name, r["p95"])})
    return pd.DataFrame(out)


def probability_table(summary: pd.DataFrame) -> pd.DataFrame:
    """The probability rows of a summary (phase reached by a year, stalled) as percentages."""
    rows = summary[summary["quantity"].str.startswith("P(")]
    return pd.DataFrame({"event": rows["quantity"].map(_event_words),
                         "probability": rows["mean"].map(lambda v: f"{v:.0%}"),
                         "95% interval": [f"{a:.0%} to {b:.0%}" for a, b in zip(rows["ci95_low"], rows["ci95_high"],
                                                                                  strict=True)]})


def _event_words(quantity: str) -> str:
    inner = quantity[2:-1]
    if inner == "stalled":
        return "The programme stalls within the horizon"
    phase, _, year = inner.partition(" by year ")
    return f"Phase {phase.removeprefix('phase')} reached within {year} years"


def comparison_table(table: pd.DataFrame) -> pd.DataFrame:
    """A paired comparison (:data:`sim.pairing.COMPARE_COLUMNS`) as text; the ``compared``
    column names the pair (B against A)."""
    rows = []
    for r in table.itertuples():
        o = r.outcome
        rows.append({"compared": f"{r.b} against {r.a}", "outcome": display(o).label, "unit": unit(o),
                     "mean A": number(o, r.mean_a), "mean B": number(o, r.mean_b),
                     "B - A (95% interval)": f"{number(o, r.difference)} ({number(o, r.ci95_low)} to "
                                             f"{number(o, r.ci95_high)})",
                     "P(B better)": f"{r.p_b_better:.0%}"})
    return pd.DataFrame(rows)


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
    from .schema import Levers

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
        said.append(f"China's refining and export controls start at '{ref.initial_regime}', with the ban on "
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
              if getattr(scn.levers, name) != getattr(defaults, name)]
    said.append(f"Policy levers set: {'; '.join(levers)}." if levers else "No policy lever is set away from its default.")
    return said


def reproduce_command(manifest: dict[str, Any]) -> str:
    """The ``sim run`` command that makes this run again."""
    words = ["sim", "run", manifest.get("scenario_file", "SCENARIO.yaml"), "--runs", str(manifest["runs"]),
             "--seed", str(manifest["seed"])]
    for text in manifest.get("overrides", []):
        words += ["--set", text]
    return shlex.join(words)


# --- the document ---------------------------------------------------------------------------

@dataclass
class _Figure:
    key: str
    caption: str
    figure: Figure


def _sections(res: ResultSet, cmp: Comparison | None) -> list[tuple[str, list[Any]]]:
    """The report as sections of blocks: str (a paragraph), list[str] (bullets),
    pd.DataFrame (a table) or _Figure."""
    m = res.manifest
    summary = res.summary()
    question = m.get("question") or res.scenario.description or (
        f"What happens to Pakistan's critical-minerals programme under the scenario {res.name}?")
    reached = summary.set_index("quantity")
    horizon = res.horizon_years
    findings = []
    for phase in (2, 3):
        key = f"phase{phase}_year"
        share = float(pd.Series(res.outcomes[key]).notna().mean())
        median = reached.loc[key, "p50"] if key in reached.index else float("nan")
        when = f", in a median {median:.1f} years among those that did" if share and math.isfinite(median) else ""
        findings.append(f"Phase {phase} was reached within {horizon} years in {share:.0%} of replications{when}.")
    sections: list[tuple[str, list[Any]]] = [
        ("The question", [question,
                          f"The model ran {res.runs:,} replications of this scenario. Each is one possible "
                          "future: the same projects and rules, with attacks, prices, delays and policy "
                          "changes drawn at random. A mean is given with its 95% interval (how precisely "
                          f"{res.runs:,} replications pin it down); P5 to P95 is the spread of futures."]),
        ("The scenario in plain words", [scenario_in_words(res.scenario)]),
        ("Headline numbers", [" ".join(findings), headline_table(summary),
                              "Phase years above describe the replications that reached the phase; the "
                              "probabilities below count every replication.", probability_table(summary)]),
        ("Phase timing", [
            "The programme's three phases (demonstration, commercial scaling, significant impact) are "
            "entered when their gates are met. Each curve is the probability that a phase has not yet been "
            "reached, year by year; the shaded windows are when the sources expect each phase to begin.",
            _Figure("phase_survival", "Time to reach Phase 2 and Phase 3 (Kaplan-Meier, 95% bands).",
                    res.plot.survival())]),
    ]
    if not res.timeseries.empty:
        sections.append(("Yearly flows", [
            "Export value and domestic value added by year: the median, and the bands holding 50% and 90% "
            "of replications.",
            _Figure("export_value_fan", "Export value by year.", res.plot.fan("export_value_usd")),
            _Figure("domestic_value_added_fan", "Domestic value added by year.",
                    res.plot.fan("domestic_value_added_usd"))]))
    sections.append(("Distributions", [_Figure("outcome_histograms", "Headline outcomes across replications.",
                                               res.plot.hist())]))
    if cmp is not None:
        sections.append(("Comparison", [
            f"Each run against {cmp.reference}, replication by replication: the runs share their seed and "
            "random numbers, so replication i of each faces the same attacks, prices and delays except where "
            "the scenario changes them. B - A is the mean paired difference; P(B better) is the share of "
            "replications in which B does better (earlier phases, fewer incidents and costs, more exports, "
            "value added and NPV).",
            *_per_pair(comparison_table(cmp.table)),
            _Figure("compare_survival", "Time to reach each phase, compared.", cmp.plot.survival()),
            _Figure("compare_distributions", "Outcome distributions, compared.", cmp.plot.distributions())]))
    sections.append(("Parameters and sources", [
        "Every parameter of the scenario after its parent files and overrides, with the source or "
        "assumption written beside it in the scenario file.", _parameters(res)]))
    sections.append(("Provenance", [_provenance(res), "To make this run again:", ("code", reproduce_command(m))]))
    return sections


def _per_pair(table: pd.DataFrame) -> list[Any]:
    """One heading line and one table per compared run."""
    blocks: list[Any] = []
    for pair, rows in table.groupby("compared", sort=False):
        blocks += [("heading", f"{pair} (B = {str(pair).split(' against ')[0]})"), rows.drop(columns="compared")]
    return blocks


def parameter_sources(res: ResultSet) -> list[dict[str, Any]]:
    """Every parameter of the run's scenario with its source: as recorded with the run, else
    read from its scenario file if that file (with the run's overrides) still gives the
    scenario that was run; otherwise the values, with the source marked as not recorded."""
    from .errors import ScenarioError
    from .reference import parameter_rows, parameter_table
    from .results import scenario_digest
    from .scenario import load_scenario

    m = res.manifest
    if m.get("parameters") is not None:
        return list(m["parameters"])
    file = m.get("scenario_file")
    if file and Path(file).exists():
        try:
            same = scenario_digest(load_scenario(file, m.get("overrides", []))) == m.get("scenario_sha256")  # type: ignore[arg-type]
        except ScenarioError:  # the file no longer loads
            same = False
        if same:
            return parameter_table(file, m.get("overrides", []))
    return [{**r, "source": "not recorded with this run"} for r in parameter_rows(res.scenario)]


def _parameters(res: ResultSet) -> pd.DataFrame:
    table = pd.DataFrame(parameter_sources(res))
    return table[[c for c in ("path", "value", "unit", "range", "source") if c in table.columns]]


def _provenance(res: ResultSet) -> pd.DataFrame:
    m = res.manifest
    items = [("scenario", res.name), ("scenario file", m.get("scenario_file", "not recorded")),
             ("overrides", "; ".join(m.get("overrides", [])) or "none"),
             ("replications", f"{res.runs:,}"), ("seed", m.get("seed")),
             ("scenario sha256", m.get("scenario_sha256")), ("created (UTC)", m.get("created_utc")),
             ("wall time", f"{m.get('wall_seconds', float('nan')):.1f} s on {m.get('workers')} worker(s)"),
             ("platform", m.get("platform")),
             ("versions", ", ".join(f"{k} {v}" for k, v in m.get("versions", {}).items())),
             ("report written", date.today().isoformat())]
    return pd.DataFrame(items, columns=["item", "value"])


def _png(fig: Figure, dpi: int = 110) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
       max-width: 62rem; margin: 2rem auto; padding: 0 1.2rem; color: #1a1a1a; line-height: 1.5; }
h1 { font-size: 1.7rem; margin-bottom: 0.2rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #ddd; }
.subtitle { color: #555; margin-top: 0; }
table { border-collapse: collapse; margin: 0.8rem 0 1.2rem; font-size: 0.9rem; }
th, td { padding: 0.3rem 0.6rem; border-bottom: 1px solid #e3e3e3; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } tr:nth-child(even) td { background: #fafafa; }
table.params { font-size: 0.78rem; } table.params td:first-child { font-family: ui-monospace, monospace; }
figure { margin: 1rem 0 1.6rem; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.9rem; }
pre { background: #f5f5f5; padding: 0.6rem 0.8rem; overflow-x: auto; font-size: 0.85rem; }
nav { font-size: 0.9rem; } nav a { margin-right: 0.8rem; }
@media print { body { max-width: none; } h2 { break-after: avoid; } figure { break-inside: avoid; } }
"""


def _anchor(title: str) -> str:
    return title.lower().replace(" ", "-")


def _html_table(frame: pd.DataFrame, css: str = "") -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>"
                   for row in frame.itertuples(index=False))
    return f'<table class="{css}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def render_html(res: ResultSet, cmp: Comparison | None = None) -> str:
    """The report as one self-contained HTML document."""
    parts = []
    sections = _sections(res, cmp)
    for title, blocks in sections:
        parts.append(f'<h2 id="{_anchor(title)}">{html.escape(title)}</h2>')
        for block in blocks:
            if isinstance(block, str):
                parts.append(f"<p>{html.escape(block)}</p>")
            elif isinstance(block, tuple) and block[0] == "heading":
                parts.append(f"<h3>{html.escape(block[1])}</h3>")
            elif isinstance(block, tuple):
                parts.append(f"<pre><code>{html.escape(block[1])}</code></pre>")
            elif isinstance(block, list):
                parts.append("<ul>" + "".join(f"<li>{html.escape(b)}</li>" for b in block) + "</ul>")
            elif isinstance(block, pd.DataFrame):
                parts.append(_html_table(block, "params" if title.startswith("Parameters") else ""))
            else:
                data = base64.b64encode(_png(block.figure)).decode("ascii")
                parts.append(f'<figure><img alt="{html.escape(block.caption)}" src="data:image/png;base64,{data}">'
                             f"<figcaption>{html.escape(block.caption)}</figcaption></figure>")
    nav = " ".join(f'<a href="#{_anchor(t)}">{html.escape(t)}</a>' for t, _ in sections)
    title = f"{res.name}: scenario report"
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{html.escape(title)}</title>"
            f"<style>{_CSS}</style></head><body><h1>{html.escape(title)}</h1>"
            f'<p class="subtitle">Pakistan\'s critical-minerals and rare-earth ramp-up: a Monte Carlo simulation, '
            f"{res.runs:,} replications, seed {res.manifest.get('seed')}.</p><nav>{nav}</nav>"
            + "".join(parts) + "</body></html>\n")


def _md_table(frame: pd.DataFrame) -> str:
    def cell(v: object) -> str:
        return str(v).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(map(cell, frame.columns)) + " |", "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join(map(cell, row)) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines)


def render_markdown(res: ResultSet, cmp: Comparison | None, images: Path) -> str:
    """The report as Markdown; its figures are written as PNG files into ``images`` and
    linked by their path relative to the Markdown file's folder (``images``' parent)."""
    parts = [f"# {res.name}: scenario report", "",
             f"Pakistan's critical-minerals and rare-earth ramp-up: a Monte Carlo simulation, {res.runs:,} "
             f"replications, seed {res.manifest.get('seed')}.", ""]
    for title, blocks in _sections(res, cmp):
        parts += [f"## {title}", ""]
        for block in blocks:
            if isinstance(block, str):
                parts += [block, ""]
            elif isinstance(block, tuple) and block[0] == "heading":
                parts += [f"### {block[1]}", ""]
            elif isinstance(block, tuple):
                parts += ["```", block[1], "```", ""]
            elif isinstance(block, list):
                parts += [f"- {b}" for b in block] + [""]
            elif isinstance(block, pd.DataFrame):
                parts += [_md_table(block), ""]
            else:
                png = _png(block.figure)
                target = images / f"{block.key}.png"
                atomic_write(target, lambda p, data=png: p.write_bytes(data))
                parts += [f"![{block.caption}]({images.name}/{target.name})", ""]
    return "\n".join(parts)


def write_report(res: ResultSet, cmp: Comparison | None, out: Path, fmt: str = "html") -> Path:
    """Write the report to ``out``: HTML (self-contained) or Markdown (figures in
    ``<stem>_files/`` beside it). Returns ``out``."""
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "md":
        images = out.with_name(f"{out.stem}_files")
        images.mkdir(exist_ok=True)
        text = render_markdown(res, cmp, images)
    else:
        text = render_html(res, cmp)
    atomic_write(out, lambda p: p.write_text(text, encoding="utf-8"))
    return out

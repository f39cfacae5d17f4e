"""Regenerate docs/assumptions.md: run the Morris screening of the behavioural settings and
write the ranking, with every setting's range and where its value comes from.

    PYTHONPATH=src python scripts/assumptions.py                # run, analyse, write the doc
    PYTHONPATH=src python scripts/assumptions.py --from DIR     # the doc from a stored run

The run is `tightrope assumptions` with the sizes below (an experiment folder, kept in
--out). It starts afresh: a previous screening in --out is removed first, because stored
runs keep the outcomes of the code that ran them (`--resume` keeps them, after a stop).
Prints how long it took. The screening's numbers change with the model: rerun this after
changing the model or the goal scores' formulas.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import math
import re
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from tightrope.errors import InputError
from tightrope.experiments import assumptions as asm
from tightrope.experiments.analysis import analyze, current_analysis
from tightrope.experiments.runner import load_experiment, run_experiment
from tightrope.results.storage import write_text_atomic
from tightrope.scenario.files import load_scenario, preset_text

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "assumptions.md"
MODEL_DOC = ROOT / "docs" / "model.md"

PRESET = asm.DEFAULT_PRESET
USERS = asm.DEFAULT_USERS
DAYS = asm.DEFAULT_DAYS
TRAJECTORIES = asm.DEFAULT_TRAJECTORIES
SEED = asm.DEFAULT_SEED
LEVELS = asm.DEFAULT_LEVELS
WORKERS = 2
TOP = 20
"""Settings listed per goal in the ranking tables (the full table lists every setting)."""
PART_TOP = 5


# ---------------------------------------------------------------- where values come from


def preset_comments(preset: str) -> dict[str, str]:
    """Dotted path -> the comment written next to it in the preset file (or on its table's
    header line, for the keys of that table without a comment of their own)."""
    out: dict[str, str] = {}
    table = ""
    header = ""
    for line in preset_text(preset).splitlines():
        m = re.match(r"^\[([A-Za-z0-9_.]+)\]\s*(?:#\s*(.*))?$", line.strip())
        if m:
            table, header = m.group(1), (m.group(2) or "").strip()
            continue
        m = re.match(r"^([A-Za-z0-9_]+)\s*=\s*[^#]*?(?:#\s*(.*))?$", line.strip())
        if m and table:
            note = (m.group(2) or "").strip() or header
            if note:
                out[f"{table}.{m.group(1)}"] = note
    return out


def model_doc_sources() -> list[tuple[str, str]]:
    """(pattern, source) from the parameter tables of docs/model.md (section 12): names in
    a row's first cell, relative ones completed from the first name of the row (or
    `population.` in 12.1, where the population's names are written without it)."""
    out: list[tuple[str, str]] = []
    sections = set(asm.SECTIONS) | {"network", "run", "state", "platforms", "random_events"}
    in_params = False
    for line in MODEL_DOC.read_text("utf-8").splitlines():
        if line.startswith("## "):
            in_params = line.startswith("## 12 ")
        if not in_params or not line.startswith("| `"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 5:
            continue
        names = re.findall(r"`([^`]+)`", cells[0])
        if not names:
            continue
        first = names[0] if names[0].split(".")[0] in sections else f"population.{names[0]}"
        parent = first.rsplit(".", 1)[0]
        for name in names:
            if name.split(".")[0] in sections:
                full = name
            elif name == names[0]:
                full = first
            else:
                full = f"{parent}.{name}"
            out.append((full, cells[-1]))
    return out


def source_of(path: str, comments: dict[str, str], doc: list[tuple[str, str]]) -> str:
    """What the preset file and docs/model.md say about where a value comes from."""
    said = []
    if path in comments:
        said.append(f"preset: {comments[path]}")
    for pattern, source in doc:
        if fnmatch.fnmatchcase(path, pattern) and source:
            said.append(f"model.md: {source}")
            break
    if not said and path.startswith("content."):
        said.append("model.md 12.2: all assumptions")
    return "; ".join(said) or "not said"


# ---------------------------------------------------------------- noise


SEEDS = 8
"""Seeds of the preset run at the screening's size, for the noise floor of mu*."""


def seed_spread(folder: Path, meta: dict[str, Any], workers: int) -> dict[str, float]:
    """Per outcome, the standard deviation over SEEDS seeds of the preset at the screening's
    size (`tightrope compare`, stored in FOLDER-seeds; run again, it runs only what is
    missing)."""
    import statistics

    from tightrope.experiments.compare import compare

    res = compare([str(meta["base"])], replicates=SEEDS, root_seed=int(meta["root_seed"]),
                  users=int(meta["users"]), days=float(meta["days"]),
                  out_dir=folder.with_name(folder.name + "-seeds"), workers=workers)  # fmt: skip
    runs = res.summaries[res.baseline]
    out: dict[str, float] = {}
    for o in meta["outcomes"]:
        values = [float(r[o]) for r in runs if r.get(o) is not None and r[o] == r[o]]
        if len(values) > 1:
            out[o] = statistics.stdev(values)
    return out


def noise_floor(sd: float, levels: int) -> float:
    """mu* of a setting with no effect whose step sends the run down an unrelated path (as
    another seed would): E|Y1 - Y2| / delta = 2 sd / sqrt(pi) / delta, with SALib's step
    delta = levels / (2 (levels - 1)) of the range."""
    delta = levels / (2 * (levels - 1))
    return 2 * sd / math.sqrt(math.pi) / delta


# ---------------------------------------------------------------- the page


def _num(value: Any) -> str:
    if value is None:
        return "n/a"
    v = float(value)
    if v != v:
        return "n/a"
    if v == 0:
        return "0"
    return f"{v:.3g}" if abs(v) >= 1e-3 else f"{v:.2e}"


def _clear(row: dict[str, Any], floor: float | None) -> bool:
    """mu* minus its interval's half width above the noise floor."""
    mu, conf = row.get("mu_star"), row.get("mu_star_conf") or 0.0
    if floor is None or mu is None or mu != mu:
        return False
    return bool(mu - conf > floor)


def _way(row: dict[str, Any]) -> str:
    """Which way the score moves as the setting rises: mu's sign where |mu| >= mu* / 2."""
    mu, star = row.get("mu") or 0.0, row.get("mu_star") or 0.0
    if abs(mu) < star / 2:
        return "either way"
    return "the score rises with it" if mu > 0 else "the score falls as it rises"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def page(folder: Path, seconds: float | None, command: str, workers: int) -> str:
    """docs/assumptions.md from the experiment folder `folder`."""
    meta = load_experiment(folder)
    levels = int(meta["design"]["num_levels"])
    spread = seed_spread(folder, meta, workers)
    floor = {o: noise_floor(sd, levels) for o, sd in spread.items()}
    scenario = load_scenario(str(meta["base"]))
    shocks = sorted(ev.day for ev in scenario.events)
    an = current_analysis(folder)
    ranking = asm.ranking(an.sensitivity)
    preset = str(meta["base"])
    settings, excluded = asm.catalogue(preset)
    screened = {f["path"] for f in meta["factors"]}
    settings = [s for s in settings if s.path in screened]
    comments = preset_comments(preset)
    doc = model_doc_sources()
    rank = {g: {r["setting"]: r for r in ranking.get(g, [])} for g in ranking}
    runs = meta["points"] * meta["replicates"]
    took = f" ({seconds / 60:.1f} minutes with the {SEEDS} seed runs)" if seconds else ""
    lines: list[str] = []
    w = lines.append
    w("# What the model does not know: the behavioural assumptions ranked")
    w("")
    w("<!-- generated by scripts/assumptions.py from a stored run; do not edit by hand -->")
    w("")
    w("Most numbers that describe the people of Tightrope's society (how often they post, how")
    w("fast they learn fear, how grievance rises, what they reshare) are assumptions, not")
    w("measurements (docs/model.md 12). This page ranks them, for each goal score, by how much")
    w("they move it: a **Morris screening** (elementary effects; Morris 1991, Campolongo et")
    w("al. 2007, as SALib computes it) over every behavioural setting of the")
    w(f"`{preset}` preset, each tried over a range around the preset's value.")
    w("")
    w("Read it as a list of what to measure first: a setting high in a goal's ranking is one")
    w("whose unknown value changes that goal's score most; a setting low in every ranking can")
    w("be left at its assumed value for the results this run size shows.")
    w("")
    w("## Summary")
    w("")
    w('The settings whose mu\\* is clear of seed noise at this size (see "How to read the')
    w('numbers"), at most five per goal, largest first, and which way the score moves as the')
    w("setting rises (the sign of mu, where it is at least half of mu\\*):")
    w("")
    for goal in asm.GOALS:
        clear = [r for r in ranking.get(goal, []) if _clear(r, floor.get(goal))]
        shown = "; ".join(f"`{r['setting']}` (mu\\* {_num(r['mu_star'])}, {_way(r)})"
                          for r in clear[:5])  # fmt: skip
        w(f"- **{goal}**: {shown or 'none: no setting is clear of seed noise at this size'}")
    w("")
    w("## How it was run")
    w("")
    w("```")
    w(command)
    w("```")
    w("")
    if shocks and shocks[0] >= float(meta["days"]):
        when = (f"the runs end before the preset's first scheduled shock (day {shocks[0]:g}), "
                "so the ranking is of the society in ordinary times")  # fmt: skip
    elif shocks:
        when = f"the runs include the preset's scheduled shocks (days {shocks})"
    else:
        when = "the preset schedules no shock"
    w(f"- preset `{preset}`; {meta['users']:,} users, {_num(meta['days'])} days per run; "
      f"{when};")  # fmt: skip
    w(f"- {len(settings)} settings screened, {meta['design']['samples']} Morris trajectories on")
    w(f"  a grid of {meta['design']['num_levels']} levels: {meta['points']:,} design points x")
    w(f"  {meta['replicates']} replicate = {runs:,} runs{took}, {workers} workers;")
    w(f"- root seed {meta['root_seed']}; every run uses the same replicate seed (common random")
    w("  numbers), so a step of a trajectory changes one setting and nothing else;")
    w("- the design, the runs and the analysis are an ordinary experiment folder")
    w("  (docs/experiments.md, docs/analysis.md): `experiment.json`, `results.parquet`,")
    w("  `analysis/sensitivity.parquet`; `tightrope report DIR` shows the ranking as a figure.")
    w("")
    w('The command is `tightrope assumptions` (docs/experiments.md, "Screening the')
    w('behavioural assumptions"). This page is written by one command, which runs it with')
    w("the sizes above, runs the preset at 8 seeds for the noise floor, and prints how long")
    w("it took:")
    w("")
    w("```")
    w("python scripts/assumptions.py                            # run afresh, write this page")
    w("python scripts/assumptions.py --from results/assumptions # this page from a stored run")
    w("```")
    w("")
    w("## How to read the numbers")
    w("")
    w("- **mu\\*** (mu_star): the mean absolute elementary effect: how much the score changes")
    w("  when the setting alone moves, scaled to its whole range (SALib divides the change by")
    w("  the step, a share of the range). Scores are in [0, 1], so mu\\* = 0.02 means about")
    w("  0.02 of score (two points on a 0-100 scale) across the range. The **interval** is")
    w("  SALib's 95% bootstrap interval of mu\\* over the trajectories (mu\\* ± the half")
    w("  width shown).")
    w("- **sigma**: the spread of the elementary effects over the trajectories. A sigma as")
    w("  large as mu\\* or larger says the effect depends on where the other settings are")
    w("  (interactions) or is not linear; **mu** (signed mean) near mu\\* says the score")
    w("  moves one way as the setting rises.")
    w("- **Noise.** Each point is one run of a stochastic model. Common random numbers keep")
    w("  the seed the same along a trajectory, but a changed setting can still send the run")
    w("  down another path. The **noise floor** of each goal is the mu\\* that a setting with")
    w("  no effect would show if each step sent the run down an unrelated path, as another")
    w(f"  seed does: 2 sd / (sqrt(pi) x step), with sd the goal's spread over {SEEDS} seeds of")
    w("  the preset at this size (stored beside the run, in `DIR-seeds`). A setting is")
    w("  marked **clear** when mu\\* minus its interval's half width is above the floor;")
    w("  the others cannot be told from seed noise at this size, and differences between")
    w("  settings whose intervals overlap are unresolved. More trajectories, users or days")
    w("  shrink both.")
    w("")
    w("## Ranges tried")
    w("")
    w("Derived from the schema (`tightrope.experiments.assumptions.catalogue`), so a new")
    w("behavioural setting is screened without any change to the code:")
    w("")
    w("- **odds** (settings bounded to [0, 1]: shares, chances, means of traits): the odds")
    w("  p / (1 - p) divided and multiplied by 1.5, [p / (1.5 - 0.5 p), 1.5 p / (1 + 0.5 p)];")
    w("  for small values this is two thirds to one and a half times the value, and it never")
    w("  reaches 0 or 1;")
    w("- **scale** (other non-negative settings): two thirds to one and a half times the")
    w("  value, clipped to the schema's bounds;")
    w("- **centred** (settings that may be negative: `population.stance_mean`): the value plus")
    w("  or minus a quarter of the schema's range;")
    w("- **+ cap**: `behaviour.exposure_private + exposure_private_data` must stay at most 1;")
    w("  the preset has them at 1, so both are tried from their lower end up to the preset's")
    w("  value.")
    w("")
    w("Half to double was tried first and is too wide for this model: `behaviour.reshare_base`")
    w("doubled (0.5 to 1), with other settings high, makes the reshare cascades supercritical:")
    w("views and the cost of each tick grow without bound, and a 7-day run of 4,000 users did")
    w("not end (at 0.75 the same point ends in 2 s). That is itself a finding: the preset's")
    w("reshare propensity is within a factor of two of an explosive regime. With 1.5, every")
    w("cascade setting at its top at once (reshare, virality, susceptibility, activity, views)")
    w("still ends.")
    w("")
    w("Multiplicative ranges are sampled on a log scale (the preset's value is their centre),")
    w("centred ones on a linear scale. Settings at 0 in the preset (a mechanism that is off,")
    w("or a category without that property) have no range around 0 and are listed at the end.")
    w("")
    for goal in asm.GOALS:
        rows = ranking.get(goal, [])
        w(f"## {goal}")
        w("")
        if not rows:
            notes = [n for n in an.notes if goal in n] or ["no indices"]
            w(f"No ranking: {'; '.join(notes)}.")
            w("")
            continue
        clear = [r for r in rows if _clear(r, floor.get(goal))]
        sd = spread.get(goal)
        w(f"The {min(TOP, len(rows))} settings that move it most (of {len(rows)}). Seed spread")
        w(f"of the score: sd {_num(sd)} over {SEEDS} seeds; noise floor of mu\\* "
          f"{_num(floor.get(goal))}; {len(clear)} settings clear of it.")  # fmt: skip
        w("")
        w("| rank | setting | mu* | 95% interval | sigma | mu | clear | range tried |")
        w("|---:|---|---:|---:|---:|---:|---|---|")
        by = {s.path: s for s in settings}
        for r in rows[:TOP]:
            s = by.get(r["setting"])
            tried = f"{_num(s.low)} to {_num(s.high)}" if s else "n/a"
            conf = r["mu_star_conf"]
            mark = "yes" if _clear(r, floor.get(goal)) else "no"
            w(f"| {r['rank']} | `{r['setting']}` | {_num(r['mu_star'])} | ± {_num(conf)} | "
              f"{_num(r['sigma'])} | {_num(r['mu'])} | {mark} | {tried} |")  # fmt: skip
        w("")
    parts = [o for o in meta["outcomes"] if o not in asm.GOALS]
    if parts:
        w("## The goals' parts")
        w("")
        w(f"The {PART_TOP} settings that move each part most (mu\\*, units of the part):")
        w("")
        w("| part | settings (mu*) |")
        w("|---|---|")
        for o in parts:
            rows = ranking.get(o, [])
            if not rows:
                why = [n.removeprefix("sensitivity: ") for n in an.notes if f" {o} " in n]
                w(f"| `{o}` | none: {_cell('; '.join(why) or 'no indices')} |")
                continue
            top = ", ".join(f"`{r['setting']}` ({_num(r['mu_star'])})" for r in rows[:PART_TOP])
            w(f"| `{o}` | {top} |")
        w("")
    w("## Every setting screened")
    w("")
    w("Rank of each setting in each goal's ranking (1 moves it most), the preset's value, the")
    w("range tried and its rule, and where the value comes from as the preset file's comment")
    w('and docs/model.md\'s parameter tables say ("assumption" is a modelling choice).')
    w("")
    w("| setting | order | development | freedom | value | range tried | rule | meaning "
      "(schema) | source |")  # fmt: skip
    w("|---|---:|---:|---:|---:|---|---|---|---|")
    for s in settings:
        ranks = [str(rank.get(g, {}).get(s.path, {}).get("rank", "n/a")) for g in asm.GOALS]
        scale = "" if s.scale == "log" else f" ({s.scale})"
        tried = f"{_num(s.low)} to {_num(s.high)}{scale}"
        source = _cell(source_of(s.path, comments, doc))
        w(f"| `{s.path}` | {' | '.join(ranks)} | {_num(s.value)} | {tried} | {s.rule} | "
          f"{_cell(s.description) or ' '} | {source} |")  # fmt: skip
    w("")
    w("## Not screened")
    w("")
    w("Numeric settings of the behavioural sections that are not screened, and why:")
    w("")
    w("| setting | value in the preset | why |")
    w("|---|---|---|")
    for e in excluded:
        value = e.value if isinstance(e.value, list) else _num(e.value)
        w(f"| `{e.path}` | {_cell(str(value))} | {_cell(e.reason)} |")
    missing = sorted({s.path for s in asm.catalogue(preset)[0]} - screened)
    for path in missing:
        w(f"| `{path}` | | left out of this run by `--only` |")
    w("")
    w("The other sections of a scenario are not behavioural:")
    w("")
    for section, why in asm.OTHER_SECTIONS.items():
        w(f"- `{section}`: {why}")
    w("")
    notes = [n for n in an.notes if not n.startswith(("Pareto front:", "paired differences:"))]
    if notes:
        w("## Notes of the analysis")
        w("")
        for n in notes:
            w(f"- {n}")
        w("")
    return "\n".join(lines)


def _start_afresh(folder: Path) -> None:
    """Remove a previous screening in `folder` (and its seed runs and measured time): the
    stored runs hold the outcomes of the code that ran them, and an unchanged scenario would
    let the experiment runner take them as done. A folder that holds something else is
    refused."""
    seeds, took = folder.with_name(folder.name + "-seeds"), _took_file(folder)
    if folder.exists():
        try:
            name = str(load_experiment(folder).get("name", ""))
        except InputError:  # not an experiment folder: not ours to remove
            name = ""
        if not name.startswith("assumptions-"):
            raise SystemExit(f"{folder} holds something other than a screening; give another "
                             "--out")  # fmt: skip
        print(f"removing the previous screening in {_shown(folder)} (--resume keeps it)")
        shutil.rmtree(folder)
    if seeds.exists():
        shutil.rmtree(seeds)
    took.unlink(missing_ok=True)


def _shown(path: Path) -> str:
    """A path relative to the repository where it is inside it."""
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def _took_file(folder: Path) -> Path:
    """Where the measured time of a run is kept: beside its folder, DIR-took.json."""
    return folder.with_name(folder.name + "-took.json")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--out",
        type=Path,
        default=ROOT / "results" / "assumptions",
        help="experiment folder of the run (default: results/assumptions)",
    )
    parser.add_argument(
        "--from",
        dest="source",
        type=Path,
        default=None,
        help="write the doc from this stored run; run nothing",
    )
    parser.add_argument("--doc", type=Path, default=DOC, help="the page to write")
    parser.add_argument("--resume", action="store_true",
                        help="keep the runs stored in --out (after a stop); by default the "
                        "screening starts afresh, since stored runs keep the outcomes of the "
                        "code that ran them")  # fmt: skip
    parser.add_argument("--workers", type=int, default=WORKERS)
    parser.add_argument("--users", type=int, default=USERS, help="smaller for a trial only")
    parser.add_argument("--days", type=float, default=DAYS, help="shorter for a trial only")
    parser.add_argument("--trajectories", type=int, default=TRAJECTORIES)
    parser.add_argument("--only", action="append", default=[], help="a trial on a part only")
    args = parser.parse_args(argv)
    begun = time.monotonic()
    seconds = None
    folder = args.source
    if folder is None:
        folder = args.out
        if not args.resume:
            _start_afresh(folder)
        spec = asm.assumptions_spec(PRESET, args.trajectories, args.users, args.days, SEED,
                                    LEVELS, args.only)  # fmt: skip
        print(f"{spec.name}: {len(spec.factors)} settings, {spec.runs} runs of {args.users} "
              f"users x {args.days:g} days on {args.workers} workers -> {folder}",
              flush=True)  # fmt: skip
        summary = run_experiment(spec, folder, backend="process", workers=args.workers)
        if summary.failures:
            print(f"{summary.failed} runs failed (see {summary.failures_path}); run again to "
                  "retry them", file=sys.stderr)  # fmt: skip
            return 1
        analyze(folder)
        print(f"the preset at {SEEDS} seeds, for the noise floor", flush=True)
        seed_spread(folder, load_experiment(folder), args.workers)
        seconds = time.monotonic() - begun
        took = {"seconds": round(seconds, 1), "workers": args.workers}
        write_text_atomic(_took_file(folder), json.dumps(took) + "\n")
    elif _took_file(folder).is_file():  # the measured time of the stored run
        stored = json.loads(_took_file(folder).read_text("utf-8"))
        seconds, args.workers = float(stored["seconds"]), int(stored["workers"])
    meta = load_experiment(folder)
    only = "".join(f" --only '{p}'" for p in args.only)
    command = (f"tightrope assumptions {meta['base']} --trajectories {meta['design']['samples']} "
               f"--users {meta['users']} --days {meta['days']:g} --seed {meta['root_seed']} "
               f"--levels {meta['design']['num_levels']}{only} --workers {args.workers} "
               f"--out {_shown(folder)}")  # fmt: skip
    write_text_atomic(args.doc, page(folder, seconds, command, args.workers) + "\n")
    took = time.monotonic() - begun
    print(f"wrote {args.doc} in {took:.0f} s ({took / 60:.1f} minutes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

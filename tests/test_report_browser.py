"""The HTML report in a real browser: every chart renders, nothing errs, nothing is fetched.

Needs Debian's chromium at /usr/bin/chromium and the playwright package (never a downloaded
browser). Skipped where either is missing, except in CI (env CI set), where that is a failure.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
from pathlib import Path
from typing import Any

import pytest

from tightrope.report.html import write_report

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
LOCAL_SCHEMES = ("file://", "data:", "blob:")


def _missing() -> str | None:
    if not CHROMIUM.is_file():
        return f"{CHROMIUM} not found (install Debian's chromium package)"
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is not installed"
    return None


if _missing() and not os.environ.get("CI"):
    pytest.skip(str(_missing()), allow_module_level=True)


def _results_builder(file: str = "test_report.py") -> Any:
    """`make_results` of test_report.py (or another test module's builders), loaded by path
    so that any import mode works."""
    spec = importlib.util.spec_from_file_location(
        f"_builders_{Path(file).stem}", Path(__file__).with_name(file)
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


FOLDERS = {"comparison": 8, "single": 7, "experiment": 3}
"""Synthetic results folders and the figures their report has: a comparison of three
scenarios, one scenario whose runs recorded no answers (an empty chart panel), and a Morris
experiment folder (trade-off scatter, the ranking of mu* per goal and sensitivity bars)."""


@pytest.fixture(scope="module", params=sorted(FOLDERS))
def loaded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """A synthetic results folder's report, opened in chromium, with what it did."""
    if reason := _missing():
        pytest.fail(f"CI is set but the browser test cannot run: {reason}")
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    builder = _results_builder()
    root = tmp_path_factory.mktemp(request.param)
    if request.param == "comparison":
        builder.make_results(root)
    elif request.param == "experiment":
        root = _results_builder("test_analysis.py").sampled_experiment(
            root / "exp", "morris", lambda x: x[:, 0] + x[:, 1] ** 2, bounds=[[0, 1]] * 3, N=6
        )
    else:
        builder._run(root, "only", 1, answers=False)
    path = write_report(root)
    profile = tmp_path_factory.mktemp("chromium-profile")
    seen: dict[str, Any] = {"requests": [], "errors": [], "path": path, "name": request.param}
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            args=ARGS,
            headless=True,
            viewport={"width": 1300, "height": 900},
        )
        try:
            page = context.new_page()
            page.on("request", lambda r: seen["requests"].append(r.url))
            page.on(
                "console",
                lambda m: seen["errors"].append(m.text) if m.type == "error" else None,
            )
            page.on("pageerror", lambda e: seen["errors"].append(f"page error: {e}"))
            page.goto(path.as_uri(), wait_until="load")
            with contextlib.suppress(PlaywrightTimeout):  # the counts below tell what failed
                page.wait_for_function(
                    "() => { const p = document.querySelectorAll('.js-plotly-plot');"
                    " return p.length > 0 && [...p].every(d => d.querySelector('.main-svg')); }",
                    timeout=30_000,
                )
            page.wait_for_timeout(300)  # let any late request or error show up
            seen["plots"] = page.eval_on_selector_all(".js-plotly-plot", "p => p.length")
            seen["rendered"] = page.eval_on_selector_all(
                ".js-plotly-plot", "p => p.filter(d => d.querySelector('.main-svg')).length"
            )
            seen["expected"] = int(
                page.get_attribute('meta[name="tightrope-figures"]', "content") or -1
            )
            seen["divs"] = page.eval_on_selector_all(".plotly-graph-div", "p => p.length")
        finally:
            context.close()
    return seen


def test_every_chart_renders(loaded: dict[str, Any]) -> None:
    assert loaded["expected"] == FOLDERS[loaded["name"]]
    assert loaded["divs"] == loaded["expected"]
    assert loaded["plots"] == loaded["expected"]
    assert loaded["rendered"] == loaded["expected"]


def test_no_console_or_page_errors(loaded: dict[str, Any]) -> None:
    assert loaded["errors"] == []


def test_nothing_but_the_file_is_requested(loaded: dict[str, Any]) -> None:
    requests = loaded["requests"]
    assert loaded["path"].as_uri() in requests
    assert [u for u in requests if not u.startswith(LOCAL_SCHEMES)] == []
    files = {u for u in requests if u.startswith("file://")}
    assert files == {loaded["path"].as_uri()}


def test_two_regimes_that_share_a_name_are_shown_as_two(tmp_path: Path) -> None:
    """Two runs of differently configured regimes, both named "same", stored in one folder:
    the page shows two regimes, each in the tables and as its own line in the charts."""
    if reason := _missing():
        pytest.fail(f"CI is set but the browser test cannot run: {reason}")
    from click.testing import CliRunner
    from playwright.sync_api import sync_playwright

    from tightrope.cli.app import main
    from tightrope.results.storage import load_summaries

    out = tmp_path / "out"
    for name, extra in (("a", ""), ("b", "[state.punishment]\nseverity = 0.9\n")):
        (tmp_path / f"{name}.toml").write_text(f'name = "same"\n{extra}')
        args = ["run", str(tmp_path / f"{name}.toml"), "--users", "1000", "--days", "1"]
        result = CliRunner().invoke(main, [*args, "--out", str(out), "--quiet"])
        assert result.exit_code == 0, result.output
    labels = sorted(f"same #{r['regime_sha256'][:8]}" for r in load_summaries(out).to_pylist())
    path = out / "report.html"
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=str(CHROMIUM), args=ARGS, headless=True
        )
        try:
            page = context.new_page()
            page.goto(path.as_uri(), wait_until="load")
            page.wait_for_function(
                "() => [...document.querySelectorAll('.js-plotly-plot')]"
                ".every(d => d.querySelector('.main-svg'))",
                timeout=30_000,
            )
            text = page.inner_text("body")
            names = page.eval_on_selector_all(
                ".js-plotly-plot", "p => p.flatMap(d => (d.data || []).map(t => t.name || ''))"
            )
        finally:
            context.close()
    assert "2 run(s) of 2 scenario(s)" in text
    for label in labels:
        assert label in text
        assert label in names  # each regime has its own line, not one averaged line


def test_the_facts_page_shows_every_fact_and_its_verdict(tmp_path: Path) -> None:
    """`tightrope facts --out`'s page (built here from a constructed result, no runs): every
    fact is a row with its verdict, the counts are shown, nothing errs or is fetched."""
    if reason := _missing():
        pytest.fail(f"CI is set but the browser test cannot run: {reason}")
    from playwright.sync_api import sync_playwright

    from tightrope.experiments import facts as fx
    from tightrope.report.facts_page import write_facts_page

    cat, label, _ = fx.load_catalogue()
    values = {}
    for i, f in enumerate(cat.fact):
        for name, metric in (
            (f.scenario, f.metric),
            (f.than, f.metric),
            (f.scenario, f.than_metric),
        ):
            if name is not None and metric is not None:
                values[(name, metric)] = [0.1 * (i % 3), 0.1 * (i % 3) + 0.01, 0.1 * (i % 3) + 0.02]
    res = fx.FactsResult(
        label, cat.title, cat.version, 300, 1.0, [1, 2, 3], fx.evaluate(cat, values)
    )
    path = write_facts_page(res, tmp_path / "facts.html")
    seen: dict[str, Any] = {"requests": [], "errors": []}
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=str(CHROMIUM), args=ARGS, headless=True
        )
        try:
            page = context.new_page()
            page.on("request", lambda r: seen["requests"].append(r.url))
            page.on("pageerror", lambda e: seen["errors"].append(f"page error: {e}"))
            page.on(
                "console", lambda m: seen["errors"].append(m.text) if m.type == "error" else None
            )
            page.goto(path.as_uri(), wait_until="load")
            rows = page.eval_on_selector_all("#facts tbody tr", "r => r.length")
            verdicts = page.eval_on_selector_all(
                "#facts tbody tr td:nth-child(8) span:first-child", "s => s.map(x => x.textContent)"
            )
            counts = page.inner_text("#counts")
        finally:
            context.close()
    assert rows == len(cat.fact)
    assert verdicts == [r["verdict"] for r in res.rows]
    c = res.counts()
    assert f"Passed: {c['all_passed']} of {c['all_total']}" in counts
    assert seen["errors"] == []
    assert [u for u in seen["requests"] if not u.startswith(LOCAL_SCHEMES)] == []

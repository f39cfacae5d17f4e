"""The explorer in a real browser: `tightrope explore` served on a free local port, driven
by Playwright through Debian's chromium (never a downloaded browser), as the report's
browser test does.

One walk through the page: two presets, a slider moved, a value out of range named, runs
started whose charts grow while they go, stopped, started again to the end, the settings
exported as a scenario file that `tightrope validate` accepts, a second tab that sees none
of the first's runs, a stored experiment folder opened with its Pareto front; then Ctrl-C,
which must end the server and every worker. Screenshots are kept in pytest's tmp folder.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
SRC = Path(__file__).resolve().parents[1] / "src"


def _missing() -> str | None:
    if not CHROMIUM.is_file():
        return f"{CHROMIUM} not found (install Debian's chromium package)"
    for package in ("playwright", "dash", "psutil"):
        if importlib.util.find_spec(package) is None:
            return f"the {package} package is not installed"
    return None


if _missing() and not os.environ.get("CI"):
    pytest.skip(str(_missing()), allow_module_level=True)


def _points(page: Any, graph: str) -> int:
    """Points drawn in a chart: the sum of its drawn traces' x lengths."""
    return int(
        page.evaluate(
            "id => { const d = document.querySelector('#' + id + ' .js-plotly-plot');"
            " return d && d._fullData ? d._fullData.reduce((n, t) => n + (t.x && t.x.length"
            " ? t.x.length : 0), 0) : 0; }",
            graph,
        )
    )


def _rendered(page: Any, graph: str) -> bool:
    return bool(page.evaluate(f"() => !!document.querySelector('#{graph} .main-svg')"))


def _status(page: Any) -> str:
    return str(page.inner_text("#status"))


def _wait_for(page: Any, check: Any, timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < end, f"timed out waiting for {what}; status: {_status(page)}"
        page.wait_for_timeout(100)


@pytest.fixture
def server(tmp_path: Path) -> Any:
    """`tightrope explore eu-dsa --no-browser` on a free port, its address and out folder."""
    import psutil

    from tightrope.explorer.server import free_port

    port = free_port()
    out = tmp_path / "runs"
    env = dict(os.environ, PYTHONPATH=str(SRC) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    log = (tmp_path / "server.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "tightrope", "explore", "eu-dsa", "--no-browser", "--port",
         str(port), "--out", str(out), "--workers", "2"],
        stdout=log, stderr=subprocess.STDOUT, env=env, cwd=tmp_path,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    end = time.monotonic() + 60
    while "Tightrope explorer at" not in (tmp_path / "server.log").read_text():
        assert proc.poll() is None, (tmp_path / "server.log").read_text()
        assert time.monotonic() < end, "the server did not start"
        time.sleep(0.1)
    info = {"url": url, "out": out, "proc": proc, "log": tmp_path / "server.log"}
    try:
        yield info
    finally:
        if proc.poll() is None:
            kids = psutil.Process(proc.pid).children(recursive=True)
            proc.kill()
            for kid in kids:
                with contextlib.suppress(psutil.NoSuchProcess):
                    kid.kill()
        log.close()


def test_the_explorer_from_presets_to_a_stored_pareto_front(server: dict[str, Any],
                                                            tmp_path: Path) -> None:  # fmt: skip
    import psutil
    from click.testing import CliRunner
    from playwright.sync_api import sync_playwright

    from tightrope.cli import main

    if reason := _missing():
        pytest.fail(f"CI is set but the browser test cannot run: {reason}")
    shots = tmp_path / "screenshots"
    shots.mkdir()
    experiment = _stored_experiment(tmp_path / "exp")
    errors: list[str] = []
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=str(CHROMIUM), args=ARGS, headless=True,
            viewport={"width": 1400, "height": 1000}, accept_downloads=True,
        )  # fmt: skip
        try:
            page = context.new_page()
            page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
            page.goto(server["url"], wait_until="load")
            page.wait_for_selector("#levers details", timeout=30_000)

            # two presets: eu-dsa (from the command line) and one picked here
            page.click("#regimes")
            page.keyboard.type("laissez-faire")
            page.keyboard.press("Enter")
            _wait_for(page, lambda: page.locator("#levers > div").count() == 2, 20, "2 regimes")

            # a slider moved (keyboard on its handle) moves its box
            box = page.locator(_box(1, "state.punishment.severity"))
            before = float(box.input_value())
            handle = page.locator(f"{_slider(1, 'state.punishment.severity')} [role=slider]")
            handle.focus()
            for _ in range(20):
                page.keyboard.press("ArrowRight")
            _wait_for(page, lambda: float(box.input_value()) > before, 10, "the box to follow")
            moved = float(box.input_value())

            # a value out of range is named inline with its range
            bad = page.locator(_box(0, "state.rulebook.precision"))
            bad.fill("1.5")
            bad.press("Enter")
            msg = page.locator(_msg(0, "state.rulebook.precision"))
            _wait_for(page, lambda: "must be 0 to 1" in msg.inner_text(), 10, "the message")
            assert "state.rulebook.precision" in msg.inner_text()
            page.click("#start")
            _wait_for(page, lambda: "Not started" in page.inner_text("#run-msg"), 10, "refusal")
            assert "state.rulebook.precision must be 0 to 1; got 1.5" in page.inner_text("#run-msg")
            bad.fill("0.9")
            bad.press("Enter")
            _wait_for(page, lambda: msg.inner_text() == "", 10, "the message to go")

            # start: the charts grow while the runs go; stop
            _set(page, "#run-users", "2000")
            _set(page, "#run-days", "365")  # long enough to watch and stop (never run to its end)
            page.click("#start")
            counts: list[int] = []  # points drawn, seen while the runs are going
            end = time.monotonic() + 60
            while len(set(counts)) < 2:
                status, n = _status(page), _points(page, "g-goals")
                assert "2 done" not in status
                if "running" in status and n > 0:
                    counts.append(n)
                assert time.monotonic() < end, f"the charts did not grow: {counts}, {status}"
                page.wait_for_timeout(200)
            assert counts == sorted(counts)
            page.screenshot(path=str(shots / "running.png"), full_page=True)
            page.click("#stop")
            _wait_for(page, lambda: "2 stopped" in _status(page), 30, "the stop")

            # a second tab is a session of its own
            other = context.new_page()
            other.goto(server["url"], wait_until="load")
            other.wait_for_selector("#status")
            other.wait_for_timeout(800)
            assert "No run yet." in other.inner_text("#status")
            other.close()

            # start again, to the end: stored, a point each on the trade-off chart
            _set(page, "#run-days", "1")
            page.click("#start")
            _wait_for(page, lambda: "2 done" in _status(page), 60, "the runs to finish")
            _wait_for(page, lambda: _points(page, "g-tradeoffs") > 0, 20, "the trade-offs")
            assert str(server["out"]) in _status(page)
            for graph in ("g-goals", "g-differences", "g-tradeoffs", "g-order", "g-more",
                          "g-platforms", "g-times"):  # fmt: skip
                assert _rendered(page, graph), graph
                # the page redraws every second, some charts less often: wait for the last
                _wait_for(page, lambda g=graph: _points(page, g) > 0, 20, graph)
            page.screenshot(path=str(shots / "finished.png"), full_page=True)

            # the charts as one self-contained HTML page (Plotly's script inside)
            with page.expect_download() as dl:
                page.click("#export-html")
            charts = tmp_path / "charts.html"
            dl.value.save_as(charts)
            html = charts.read_text()
            assert html.count('class="plotly-graph-div"') == 9
            assert '<script src="http' not in html  # nothing fetched: the script is inside
            assert len(html) > 1_000_000

            # export the second regime's settings: a file `tightrope validate` accepts
            with page.expect_download() as dl:
                page.locator("#levers > div").nth(1).locator("button", has_text="Export TOML"
                                                             ).click()  # fmt: skip
            exported = tmp_path / "exported.toml"
            dl.value.save_as(exported)
            text = exported.read_text()
            assert 'extends = "laissez-faire"' in text
            assert f"severity = {moved}" in text
            result = CliRunner().invoke(main, ["validate", str(exported)])
            assert result.exit_code == 0, result.output

            # a stored experiment folder: its Pareto front
            page.fill("#stored-path", str(experiment))
            page.click("#stored-open")
            _wait_for(page, lambda: "Pareto front" in page.inner_text("#stored-msg"), 30,
                      "the stored folder")  # fmt: skip
            _wait_for(page, lambda: _points(page, "s-tradeoffs") > 0, 20, "its front")
            names = page.evaluate(
                "() => document.querySelector('#s-tradeoffs .js-plotly-plot').data.map(t => t.name)"
            )
            assert "on the Pareto front" in names
            page.locator("#s-tradeoffs").screenshot(path=str(shots / "stored.png"))
        finally:
            context.close()
    assert errors == []
    for shot in shots.iterdir():
        assert shot.stat().st_size > 20_000, shot  # a page with charts, not a blank one

    # Ctrl-C: the server ends, and so does every worker
    proc = server["proc"]
    kids = psutil.Process(proc.pid).children(recursive=True)
    assert len(kids) >= 3  # the manager and two workers
    proc.send_signal(signal.SIGINT)
    assert proc.wait(30) == 130
    _, alive = psutil.wait_procs(kids, timeout=10)
    assert alive == []
    assert "stopped by Ctrl-C" in server["log"].read_text()


def _ident(r: int, path: str, kind: str) -> str:
    import json

    ident = json.dumps({"path": path, "r": r, "type": kind}, separators=(",", ":"))
    return "[id='" + ident + "']"


def _box(r: int, path: str) -> str:
    return _ident(r, path, "box")


def _slider(r: int, path: str) -> str:
    return _ident(r, path, "slider")


def _msg(r: int, path: str) -> str:
    return _ident(r, path, "msg")


def _set(page: Any, selector: str, value: str) -> None:
    page.fill(selector, value)
    page.press(selector, "Enter")


def _stored_experiment(root: Path) -> Path:
    """A synthetic grid experiment folder (the analysis tests' builder: no runs needed)."""
    spec = importlib.util.spec_from_file_location(
        "_explorer_analysis_builders", Path(__file__).with_name("test_analysis.py")
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return Path(module.grid_experiment(root))

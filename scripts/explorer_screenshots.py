"""Take the explorer's four screenshots in docs/images (docs/explorer.md shows them).

    python scripts/explorer_screenshots.py [--images docs/images]

Starts `tightrope explore eu-dsa china-weibo-2013 --no-browser --port 0` with a temporary
--out folder and drives the page in Debian's chromium through Playwright, with the launch
arguments and selectors of tests/test_explorer_browser.py, at a 1500 x 1100 viewport:

- explorer-levers.png: the levers panel with a value out of range named under its box;
- explorer-running.png: the two regimes running side by side (5000 users, 14 days, 3
  replicates each), taken while runs are going;
- explorer-tradeoffs.png: the trade-offs chart once the six runs are done;
- explorer-stored.png: the folder the page stored them in, opened as a stored folder.

Then Ctrl-C (SIGINT) ends the server, and the script checks that no worker is left. It
takes a few minutes on two cores (the six runs are most of it).
"""

from __future__ import annotations

import argparse
import contextlib
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
VIEWPORT = {"width": 1500, "height": 1100}
LEVERS_CLIP = {"x": 0, "y": 0, "width": 520, "height": 1100}
REGIMES = ["eu-dsa", "china-weibo-2013"]
USERS, DAYS, REPLICATES = 5000, 14, 3
RUNS = len(REGIMES) * REPLICATES


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


def _status(page: Any) -> str:
    return str(page.inner_text("#status"))


def _count(status: str, state: str) -> int:
    """How many runs the status line says are in a state ("6 run(s): 3 done, 2 running")."""
    found = re.search(rf"(\d+) {state}\b", status)
    return int(found.group(1)) if found else 0


def _wait_for(page: Any, check: Callable[[], bool], timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while not check():
        if time.monotonic() > end:
            raise TimeoutError(f"timed out waiting for {what}; status: {_status(page)}")
        page.wait_for_timeout(100)


def _ident(r: int, path: str, kind: str) -> str:
    import json

    ident = json.dumps({"path": path, "r": r, "type": kind}, separators=(",", ":"))
    return "[id='" + ident + "']"


def _set(page: Any, selector: str, value: str) -> None:
    page.fill(selector, value)
    page.press(selector, "Enter")


def _scroll_left(page: Any, selector: str) -> None:
    """Scroll the left column (levers and run settings) so `selector` is at its top."""
    page.evaluate(
        "sel => { const col = document.getElementById('levers').parentElement;"
        " const el = document.querySelector(sel);"
        " col.scrollTop += el.getBoundingClientRect().top - col.getBoundingClientRect().top - 6; }",
        selector,
    )


def _start_server(out: Path, log_path: Path) -> tuple[subprocess.Popen[bytes], str]:
    """`tightrope explore` on a free port; the process and its address."""
    log = log_path.open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "tightrope", "explore", *REGIMES, "--no-browser", "--port", "0",
         "--out", str(out)],
        stdout=log, stderr=subprocess.STDOUT, cwd=out.parent,
    )  # fmt: skip
    log.close()
    end = time.monotonic() + 120
    while not (found := re.search(r"Tightrope explorer at (\S+)", log_path.read_text())):
        if proc.poll() is not None:
            raise RuntimeError("the server ended:\n" + log_path.read_text())
        if time.monotonic() > end:
            raise TimeoutError("the server did not start:\n" + log_path.read_text())
        time.sleep(0.1)
    return proc, found.group(1)


def _stop_server(proc: subprocess.Popen[bytes], log_path: Path) -> None:
    """Ctrl-C: the server must end with status 130 and leave no worker behind."""
    import psutil

    kids = psutil.Process(proc.pid).children(recursive=True)
    proc.send_signal(signal.SIGINT)
    code = proc.wait(60)
    _, alive = psutil.wait_procs(kids, timeout=20)
    for kid in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            kid.kill()
    if code != 130 or alive:
        raise RuntimeError(
            f"the server ended with {code}, workers left: {[k.pid for k in alive]}\n"
            + log_path.read_text()
        )
    print(f"server stopped by SIGINT (status 130); its {len(kids)} child process(es) ended")


def _kill_server(proc: subprocess.Popen[bytes]) -> None:
    """After a failure: the server and its children, killed."""
    import psutil

    if proc.poll() is not None:
        return
    kids = psutil.Process(proc.pid).children(recursive=True)
    proc.kill()
    for kid in kids:
        with contextlib.suppress(psutil.NoSuchProcess):
            kid.kill()


def _drive(page: Any, url: str, out: Path, images: Path) -> None:
    """The walk through the page that takes the four screenshots."""
    page.goto(url, wait_until="load")
    page.wait_for_selector("#levers details", timeout=60_000)
    _wait_for(page, lambda: page.locator("#levers > div").count() == 2, 60, "2 regimes")

    # levers: a value out of range, named under its box
    box = page.locator(_ident(0, "state.rulebook.precision", "box"))
    good = box.input_value()
    box.fill("1.5")
    box.press("Enter")
    msg = page.locator(_ident(0, "state.rulebook.precision", "msg"))
    _wait_for(page, lambda: "must be 0 to 1" in msg.inner_text(), 20, "the message")
    _scroll_left(page, "#status")
    page.wait_for_timeout(500)
    page.screenshot(path=str(images / "explorer-levers.png"), clip=LEVERS_CLIP)
    box.fill(good)
    box.press("Enter")
    _wait_for(page, lambda: msg.inner_text() == "", 20, "the message to go")

    # running: two regimes side by side, taken while runs go
    _set(page, "#run-users", str(USERS))
    _set(page, "#run-days", str(DAYS))
    _set(page, "#run-replicates", str(REPLICATES))
    page.wait_for_timeout(500)
    _scroll_left(page, "#run-users")
    page.click("#start")

    def going() -> bool:  # two runs done, others going, their points on the trade-offs
        status = _status(page)
        done = _count(status, "done")
        return done >= 2 and "running" in status and _points(page, "g-tradeoffs") >= 3 * done

    _wait_for(page, going, 900, "two runs done while others go")
    status = _status(page)
    page.screenshot(path=str(images / "explorer-running.png"))
    if "running" not in _status(page):
        raise RuntimeError(f"the runs were no longer going at the screenshot: {status}")
    print(f"running screenshot at: {status}", flush=True)

    # trade-offs: every run done, a point each in the three panels
    _wait_for(page, lambda: _count(_status(page), "done") == RUNS, 900, "the runs to finish")
    _wait_for(page, lambda: _points(page, "g-tradeoffs") >= 3 * RUNS, 60, "the trade-offs")
    page.wait_for_timeout(1000)
    if str(out) not in _status(page):
        raise RuntimeError(f"the runs were not stored in {out}: {_status(page)}")
    page.locator("#g-tradeoffs").screenshot(path=str(images / "explorer-tradeoffs.png"))
    print(f"finished: {_status(page)}", flush=True)

    # stored: the folder the page has just stored the runs in
    page.fill("#stored-path", str(out))
    page.click("#stored-open")
    _wait_for(page, lambda: "Pareto front" in page.inner_text("#stored-msg"), 60, "the folder")
    _wait_for(page, lambda: _points(page, "s-tradeoffs") >= 3 * RUNS, 30, "its trade-offs")
    page.wait_for_timeout(1000)
    page.locator("#s-tradeoffs").screenshot(path=str(images / "explorer-stored.png"))
    print(f"stored: {page.inner_text('#stored-msg')}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Take the explorer's screenshots in docs/images.")
    parser.add_argument("--images", type=Path, default=ROOT / "docs" / "images")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.is_file():
        raise SystemExit(f"{CHROMIUM} not found (install Debian's chromium package)")
    images: Path = args.images.resolve()
    images.mkdir(parents=True, exist_ok=True)
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="tightrope-explorer-") as tmp:
        out = Path(tmp) / "runs"
        log_path = Path(tmp) / "server.log"
        proc, url = _start_server(out, log_path)
        print(f"server at {url}, runs stored in {out}", flush=True)
        errors: list[str] = []
        try:
            with sync_playwright() as pw:
                context = pw.chromium.launch_persistent_context(
                    str(Path(tmp) / "profile"), executable_path=str(CHROMIUM), args=ARGS,
                    headless=True, viewport=VIEWPORT,
                )  # fmt: skip
                try:
                    page = context.new_page()
                    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
                    _drive(page, url, out, images)
                finally:
                    context.close()
            if errors:
                raise RuntimeError("\n".join(errors))
            _stop_server(proc, log_path)
        finally:
            _kill_server(proc)
    for name in ("running", "levers", "tradeoffs", "stored"):
        shot = images / f"explorer-{name}.png"
        print(f"{shot.relative_to(ROOT) if shot.is_relative_to(ROOT) else shot}: "
              f"{shot.stat().st_size:,} bytes")  # fmt: skip
    print(f"took {time.monotonic() - began:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

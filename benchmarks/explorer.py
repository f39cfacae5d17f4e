"""The explorer's speed in a real browser (a benchmark, never a test's assertion).

    python benchmarks/explorer.py                    # 20,000 users, as issue 21 asks
    python benchmarks/explorer.py --users 2000 --days 1 --out /tmp/explorer.json

Starts `tightrope explore eu-dsa laissez-faire --no-browser` on a free port (kernels must
be compiled already: run any `tightrope run` once), opens it in Debian's chromium through
Playwright, lets the workers warm up, then measures:

- `first_day_s`: from pressing Start to the goals chart showing the first simulated day
  (24 ticks of both regimes: two runs going at once), as the page draws it;
- `slider_ms`: while those two runs go, from a keypress on a slider to its box showing the
  new value, timed inside the page (the slider answers in the browser), median and maximum
  of `--moves` presses.

Prints the numbers as JSON (and writes them to --out when given).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
SRC = Path(__file__).resolve().parents[1] / "src"
MOVE = """
async ([slider, box]) => {
    const input = document.querySelector(box), thumb = document.querySelector(slider);
    const before = input.value;
    thumb.focus();
    const t0 = performance.now();
    thumb.dispatchEvent(new KeyboardEvent("keydown", {key: "ArrowRight", bubbles: true}));
    while (input.value === before) {
        if (performance.now() - t0 > 10000) return -1;
        await new Promise(r => setTimeout(r, 1));
    }
    return performance.now() - t0;
}
"""
"""A keypress on a slider and the time, in the page, until its box shows the new value."""

FIRST_DAY = (
    "n => { const d = document.querySelector('#g-goals .js-plotly-plot');"
    " if (!d || !d._fullData) return false;"
    " const lines = d._fullData.filter(t => t.showlegend !== false && t.x && t.x.length >= n);"
    " return lines.length >= 2; }"
)


def measure(users: int, days: float, moves: int, warm_s: float) -> dict[str, object]:
    from playwright.sync_api import sync_playwright

    from tightrope.explorer.server import free_port

    port = free_port()
    folder = Path(tempfile.mkdtemp(prefix="explorer-bench-"))
    env = dict(os.environ, PYTHONPATH=str(SRC) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    log = (folder / "server.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "tightrope", "explore", "eu-dsa", "laissez-faire", "--no-browser",
         "--port", str(port), "--out", str(folder / "runs")],
        stdout=log, stderr=subprocess.STDOUT, env=env,
    )  # fmt: skip
    try:
        while "Tightrope explorer at" not in (folder / "server.log").read_text():
            if proc.poll() is not None:
                raise SystemExit((folder / "server.log").read_text())
            time.sleep(0.1)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"http://127.0.0.1:{port}/", wait_until="load")
            page.wait_for_function("() => document.querySelectorAll('#levers > div').length == 2")
            page.wait_for_timeout(warm_s * 1000)  # the workers load the kernels
            for box, value in (("#run-users", users), ("#run-days", days)):
                page.fill(box, str(value))
                page.press(box, "Enter")
            page.wait_for_timeout(500)
            ticks_a_day = 24  # the presets' 60-minute ticks
            started = time.monotonic()
            page.click("#start")
            page.wait_for_function(FIRST_DAY, arg=ticks_a_day, timeout=600_000, polling=20)
            first_day = time.monotonic() - started
            answers = []
            going = []
            for _ in range(moves):
                ms = page.evaluate(MOVE, [f"{control('slider')} [role=slider]", control("box")])
                answers.append(float(ms))
                going.append("running" in page.inner_text("#status"))
                page.wait_for_timeout(300)
            browser.close()
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(60)
        log.close()
    return {
        "users": users,
        "days": days,
        "first_day_s": round(first_day, 3),
        "slider_ms_median": round(statistics.median(answers), 1),
        "slider_ms_max": round(max(answers), 1),
        "slider_moves": moves,
        "slider_moves_while_two_runs_went": sum(going),
        "cpus": os.cpu_count(),
        "load_average_1min": round(os.getloadavg()[0], 2),
    }


def control(kind: str) -> str:
    """The CSS selector of the second regime's punishment severity control."""
    ident = json.dumps({"path": "state.punishment.severity", "r": 1, "type": kind},
                       separators=(",", ":"))  # fmt: skip
    return f"[id='{ident}']"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument(
        "--days", type=float, default=30.0, help="long enough to go on while the slider is measured"
    )
    parser.add_argument("--moves", type=int, default=10)
    parser.add_argument("--warm", type=float, default=10.0, help="seconds to let workers warm")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    numbers = measure(args.users, args.days, args.moves, args.warm)
    text = json.dumps(numbers, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()

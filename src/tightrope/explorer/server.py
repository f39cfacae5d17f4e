"""Serving the explorer: the worker pool, the Dash app on a local address, a browser, and a
clean end (Ctrl-C ends the workers and releases the results folder)."""

from __future__ import annotations

import logging
import socket
import threading
import webbrowser
from collections.abc import Callable
from pathlib import Path

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8050


def free_port(host: str = DEFAULT_HOST) -> int:
    """A port nobody listens on now (for --port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def check_port(host: str, port: int) -> None:
    """InputError when the address cannot be served (taken, or not this machine's)."""
    from tightrope.errors import InputError

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        # as the server will: a port left in TIME_WAIT by a server just stopped is free
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            raise InputError(
                f"cannot serve on {host}:{port} ({exc.strerror or exc}); give another --port "
                "(0: any free one) or --host"
            ) from None


def serve(
    scenarios: list[str],
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    out_dir: Path,
    workers: int = 2,
    open_browser: bool = True,
    say: Callable[[str], None] = print,
) -> None:
    """Start the workers and the page, open it, serve until stopped; end every worker."""
    from tightrope.engine.stops import Stopped
    from tightrope.explorer.app import Explorer, regime
    from tightrope.explorer.runs import Runs

    for source in scenarios:  # a bad scenario is named before anything starts
        regime(source)
    if port == 0:
        port = free_port(host)
    check_port(host, port)
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    url = f"http://{shown}:{port}/"
    runs = Runs(workers)
    explorer = None
    try:
        runs.warm()
        explorer = Explorer(runs, scenarios, out_dir)
        local = host in ("127.0.0.1", "localhost", "::1")
        say(f"Tightrope explorer at {url}")
        say(
            f"bound to {host}: "
            + (
                "only this computer can open it (--host 0.0.0.0 to share it on the network)"
                if local
                else "other computers on the network can open it"
            )
        )
        say(f"finished runs are stored in {out_dir} (the page can change it); Ctrl-C stops")
        if open_browser:
            threading.Timer(1.0, _open, args=(url, say)).start()
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        explorer.app.run(host=host, port=port, debug=False, threaded=True)
    except Stopped as stop:  # Ctrl-C or SIGTERM: say what is kept (the CLI prints it)
        stop.kept.append(
            "the explorer and its workers ended; runs going were abandoned, finished runs are "
            "kept where the page stored them"
        )
        raise
    finally:
        runs.close()
        if explorer is not None:
            explorer.release()


def _open(url: str, say: Callable[[str], None]) -> None:
    try:
        opened = webbrowser.open(url)
    except Exception:
        opened = False
    if not opened:
        say(f"no browser could be opened here: open {url} yourself")

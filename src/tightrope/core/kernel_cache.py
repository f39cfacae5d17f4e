"""Where the compiled kernels are cached: a folder per version of the kernels' sources.

Numba's own cache checks only the file a kernel is written in. A kernel that inlines a
rule from another module (`model/people.py`'s rules in `model/moderation.py`), or reads
another module's constants (`core/counters.py`), would be taken from the cache unchanged
after that other file changed: a silent wrong answer, after an upgrade in place as much as
while developing. So the cache lives in a folder named after a fingerprint of every source
that kernels are compiled from (`fingerprint`); any change to one of them starts a fresh
folder, and the two most recent others are kept for switching back and forth.

`configure()` runs when `tightrope` is imported, before any kernel is defined. It leaves
Numba alone when `NUMBA_CACHE_DIR` is set (the user's choice wins). `TIGHTROPE_CACHE_DIR`
chooses the parent folder (default: `$XDG_CACHE_HOME/tightrope/kernels`, else
`~/.cache/tightrope/kernels`).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]

KERNEL_FOLDERS = ("core", "model", "engine", "peers")
"""Folders whose every module counts: the kernels and what they read at compile time."""

KEEP = 3
"""Cache folders kept: the one in use and the two most recently used before it."""


def kernel_sources() -> list[Path]:
    """The sources kernels are compiled from: every module of KERNEL_FOLDERS, the content
    categories (constants the kernels read), and any other module that defines a kernel."""
    found = {p for folder in KERNEL_FOLDERS for p in (PACKAGE / folder).rglob("*.py")}
    found.add(PACKAGE / "scenario" / "content.py")
    for path in PACKAGE.rglob("*.py"):
        if path not in found and "@njit" in path.read_text("utf-8", errors="replace"):
            found.add(path)
    return sorted(found)


def fingerprint() -> str:
    """sha256 of the kernel sources' paths (relative to the package) and bytes."""
    digest = hashlib.sha256()
    for path in kernel_sources():
        digest.update(str(path.relative_to(PACKAGE)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def cache_root() -> Path:
    """The parent of the cache folders (see the module docstring)."""
    chosen = os.environ.get("TIGHTROPE_CACHE_DIR")
    if chosen:
        return Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tightrope" / "kernels"


def configure() -> Path | None:
    """Point Numba's cache at the folder of the current kernel sources; return it (None
    when NUMBA_CACHE_DIR is set, and so left to Numba)."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return None
    import numba

    folder = cache_root() / fingerprint()[:16]
    with contextlib.suppress(OSError):  # an unwritable place: Numba warns and compiles
        folder.mkdir(parents=True, exist_ok=True)
        os.utime(folder)  # most recently used
        _prune(folder.parent, keep=folder)
    numba.config.CACHE_DIR = str(folder)
    return folder


def _prune(root: Path, keep: Path) -> None:
    others = sorted(
        (p for p in root.iterdir() if p.is_dir() and p != keep),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for old in others[KEEP - 1 :]:
        shutil.rmtree(old, ignore_errors=True)

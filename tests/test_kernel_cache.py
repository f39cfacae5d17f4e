"""The kernel cache follows the kernels' sources: a change to any of them (not only the
file a kernel is written in) gives a fresh cache folder, so a stale kernel is never run."""

from __future__ import annotations

import os
from pathlib import Path

import numba
import pytest

from tightrope.core import kernel_cache


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "pkg"
    for rel, text in {
        "core/rng.py": "X = 1\n",
        "model/people.py": "def fear(x):\n    return x\n",
        "model/moderation.py": "@njit\ndef punish(x):\n    return fear(x)\n",
        "scenario/content.py": "CATEGORIES = ('a',)\n",
        "scenario/schema.py": "class S: ...\n",
        "cli/app.py": "def main(): ...\n",
    }.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    monkeypatch.setattr(kernel_cache, "PACKAGE", root)
    return root


def test_a_change_to_a_rule_another_kernel_inlines_changes_the_fingerprint(tree: Path) -> None:
    before = kernel_cache.fingerprint()
    (tree / "model/people.py").write_text("def fear(x):\n    return 2 * x\n")
    assert kernel_cache.fingerprint() != before  # moderation's kernel inlines it


def test_constants_the_kernels_read_count_and_other_modules_do_not(tree: Path) -> None:
    before = kernel_cache.fingerprint()
    (tree / "cli/app.py").write_text("def main(): return 1\n")
    (tree / "scenario/schema.py").write_text("class S: x = 1\n")
    assert kernel_cache.fingerprint() == before
    (tree / "scenario/content.py").write_text("CATEGORIES = ('a', 'b')\n")
    assert kernel_cache.fingerprint() != before
    after = kernel_cache.fingerprint()
    (tree / "cli/app.py").write_text("@njit\ndef kernel(): return 1\n")  # a kernel elsewhere
    assert kernel_cache.fingerprint() != after


def test_configure_points_numba_at_a_folder_per_fingerprint_and_keeps_three(
    tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setenv("TIGHTROPE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(numba.config, "CACHE_DIR", numba.config.CACHE_DIR)
    made = []
    for k in range(5):
        (tree / "core/rng.py").write_text(f"X = {k}\n")
        folder = kernel_cache.configure()
        assert folder is not None
        assert folder == tmp_path / "cache" / kernel_cache.fingerprint()[:16]
        assert str(folder) == numba.config.CACHE_DIR
        os.utime(folder, (1000.0 + k, 1000.0 + k))  # used in this order
        made.append(folder)
    kept = sorted(p.name for p in (tmp_path / "cache").iterdir())
    assert kept == sorted(p.name for p in made[-kernel_cache.KEEP :])


def test_the_users_numba_cache_dir_wins(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NUMBA_CACHE_DIR", "/somewhere")
    monkeypatch.setattr(numba.config, "CACHE_DIR", "/somewhere")
    assert kernel_cache.configure() is None
    assert numba.config.CACHE_DIR == "/somewhere"

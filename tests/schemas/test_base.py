"""The vocabulary's models are built when first used: a command that imports them pays for none it
does not use, and the long-running processes build every one at start (`schemas.base.build_all`)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

PROBE = textwrap.dedent(
    """
    import schemas.consultation, schemas.pages
    from schemas.base import build_all, models

    print(sum(m.__pydantic_complete__ for m in models()), len(models()))
    built = build_all()
    print(sum(m.__pydantic_complete__ for m in models()), built)
    """
)


def test_importing_the_vocabulary_builds_no_model_and_build_all_builds_every_one() -> None:
    lines = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True).stdout.split()
    built_at_import, imported, built_at_start, every = map(int, lines)
    assert built_at_import == 0 and imported > 40
    # Every module of the package, imported or not before: its models too (some are in neither module above).
    assert built_at_start == every > imported

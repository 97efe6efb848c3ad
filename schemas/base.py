"""The base of every model in the vocabulary: validators built when first used, not when imported.

Pydantic builds a model's validator when its class is defined, unless told to wait. Built at import,
the vocabulary's 84 models cost every `consult` command some 25 ms more before it says anything (most
commands validate one or two models), and each nested model's schema is generated again inside
every model that holds it. With `defer_build` a model is built once, the first time it validates or
serialises, and the long-running processes (the worker, the gateway) build them all as they start
(`build_all`), so no workflow task or page pays for it.
"""

from __future__ import annotations

import importlib
import pkgutil

from pydantic import BaseModel, ConfigDict


class Model(BaseModel):
    model_config = ConfigDict(defer_build=True)


def models() -> list[type[Model]]:
    """Every model defined so far in the modules imported: subclasses of `Model`, at any depth."""
    found: list[type[Model]] = []
    pending = list(Model.__subclasses__())
    while pending:
        found.append(pending.pop())
        pending.extend(found[-1].__subclasses__())
    return found


def build_all() -> int:
    """Build every model of the vocabulary now (the ones not built yet); how many there are."""
    import schemas

    for module in pkgutil.iter_modules(schemas.__path__, "schemas."):
        importlib.import_module(module.name)
    every = models()
    for model in every:
        model.model_rebuild()
    return len(every)

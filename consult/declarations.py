"""Reading a declaration file (YAML, or JSON) into the validated model, with messages for people."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from schemas.declaration import Declaration


class InputFileError(ValueError):
    """A file an operator gave us is unreadable or invalid; the message says where and why."""


def read_structured(path: Path) -> Any:
    """Parse YAML or JSON (by suffix) without YAML's implicit typing.

    With the base loader every scalar stays a string and pydantic converts it by
    the schema, so a party code `NO` stays "NO" (not False) and a timestamp
    keeps exactly the timezone that was written.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputFileError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise InputFileError(f"{path}: cannot be read ({err})") from None
    try:
        if path.suffix.lower() == ".json":
            return json.loads(text)
        return yaml.load(text, Loader=yaml.BaseLoader)
    except json.JSONDecodeError as err:
        raise InputFileError(f"{path}: not valid JSON: line {err.lineno}, column {err.colno}: {err.msg}") from None
    except yaml.YAMLError as err:
        where = ""
        mark = getattr(err, "problem_mark", None)
        if mark is not None:
            where = f"line {mark.line + 1}, column {mark.column + 1}: "
        problem = getattr(err, "problem", None) or str(err)
        raise InputFileError(f"{path}: not valid YAML: {where}{problem}") from None


def describe_errors(error: ValidationError) -> list[str]:
    """One line per problem: the field's path, then what is wrong with it."""
    lines = []
    for e in error.errors(include_url=False):
        where = ".".join(str(part) for part in e["loc"]) or "(top level)"
        message = e["msg"].removeprefix("Value error, ")
        given = e.get("input")
        if isinstance(given, str | int | float) and e["type"] != "value_error":
            message += f" (got {given!r})"
        lines.append(f"{where}: {message}")
    return lines


def load_declaration(path: Path) -> Declaration:
    data = read_structured(path)
    if not isinstance(data, dict):
        raise InputFileError(f"{path}: a declaration is a mapping of fields (id, title, signed_at, ...)")
    try:
        return Declaration.model_validate(data)
    except ValidationError as err:
        problems = "\n".join(f"  - {line}" for line in describe_errors(err))
        raise InputFileError(f"{path} is not a valid declaration:\n{problems}") from None

"""Reading the files operators give the CLI (declarations, pillar inputs, documents), with messages for people."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from schemas.declaration import Declaration, Pillar
from schemas.documents import MAX_DOCUMENT_BYTES
from schemas.pillar_inputs import PILLAR_INPUT, PillarInput


class InputFileError(ValueError):
    """A file an operator gave us is unreadable or invalid; the message says where and why."""


class _StrictLoader(yaml.BaseLoader):
    """YAML's base loader (every scalar a string), refusing a key written twice.

    Plain YAML keeps the last of two `signed_at:` lines silently; a declaration
    must not run on a value its author did not notice.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key {key!r} appears twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


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
        return yaml.load(text, Loader=_StrictLoader)
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
    lines: list[str] = []
    for e in error.errors(include_url=False):
        where = ".".join(str(part) for part in e["loc"]) or "(top level)"
        message = e["msg"].removeprefix("Value error, ")
        given = e.get("input")
        if isinstance(given, str | int | float) and e["type"] != "value_error":
            message += f" (got {given!r})"
        lines.append(f"{where}: {message}")
    return lines


def _strip_union_tag(error: ValidationError) -> list[str]:
    """Pillar inputs are a union chosen by `pillar`; its tag is not a field the author wrote."""
    lines = describe_errors(error)
    tags = [f"{p.value}." for p in Pillar]
    return [next((line.removeprefix(t) for t in tags if line.startswith(t)), line) for line in lines]
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


def check_signed_in_the_past(declaration: Declaration, now: datetime) -> None:
    """A consultation starts from a declaration already signed; a future date is most likely a typo."""
    if declaration.signed_at > now + timedelta(hours=1):
        raise InputFileError(
            f"signed_at {declaration.signed_at.isoformat()} is in the future; a consultation starts from a "
            "declaration that has been signed (check the year)"
        )


def load_pillar_input(path: Path, *, party: str, pillar: Pillar, author: str | None) -> PillarInput:
    """A pillar input file: `summary`, `items` (and `author`); party and pillar come from the command line."""
    data = read_structured(path)
    if not isinstance(data, dict):
        raise InputFileError(f"{path}: a pillar input is a mapping with summary and items")
    for field, given in (("party", party), ("pillar", pillar.value)):
        if field in data and str(data[field]) != given:
            raise InputFileError(f"{path}: the file says {field} {data[field]!r}, the command says {given!r}")
    data = {**data, "party": party, "pillar": pillar.value}
    if author:
        data["author"] = author
    try:
        return PILLAR_INPUT.validate_python(data)
    except ValidationError as err:
        problems = "\n".join(f"  - {line}" for line in _strip_union_tag(err))
        raise InputFileError(f"{path} is not a valid {pillar.value} input:\n{problems}") from None


def read_document(path: Path) -> str:
    """A Markdown document (minutes, draft), refused above the size that may travel through history."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputFileError(f"{path}: no such file") from None
    except OSError as err:
        raise InputFileError(f"{path}: cannot be read ({err})") from None
    if len(raw) > MAX_DOCUMENT_BYTES:
        raise InputFileError(f"{path} is {len(raw)} bytes; documents are limited to {MAX_DOCUMENT_BYTES} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputFileError(f"{path} is not UTF-8 text") from None
    if not text.strip():
        raise InputFileError(f"{path} is empty")
    return text

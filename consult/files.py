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
from schemas.limits import MAX_FILE_BYTES, MAX_NESTING, MAX_VALUES
from schemas.pillar_inputs import PILLAR_INPUT, PillarInput


class InputFileError(ValueError):
    """A file an operator gave us is unreadable or invalid; the message says where and why."""


class _StrictLoader(yaml.BaseLoader):
    """YAML's base loader (every scalar a string), refusing a key written twice and deep nesting.

    Plain YAML keeps the last of two `signed_at:` lines silently; a declaration
    must not run on a value its author did not notice. PyYAML composes nested
    nodes by recursion: 400 levels exhaust Python's stack, so depth is counted.
    """

    _depth = 0
    _nodes = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        self._depth += 1
        self._nodes += 1
        try:
            problem = ""
            if self._depth > MAX_NESTING:
                problem = f"nested more than {MAX_NESTING} levels deep"
            elif self._nodes > MAX_VALUES:  # PyYAML reads some 40,000 a second: bound the time a file takes
                problem = f"more than {MAX_VALUES:,} values"
            if problem:
                where = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise yaml.composer.ComposerError(None, None, problem, where)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

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


def _json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object, refusing a key written twice (json keeps the last one silently), as YAML files do."""
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise _JsonRefused(f"the key {key!r} appears twice")
        obj[key] = value
    return obj


class _JsonRefused(ValueError):
    pass


def _json_depth(value: Any) -> int:
    """How deep mappings and lists nest, counted without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        deepest = max(deepest, depth) if children or isinstance(node, dict | list) else deepest
        stack.extend((child, depth + 1) for child in children)
    return deepest


def read_structured(path: Path) -> Any:
    """Parse YAML or JSON (by suffix) without YAML's implicit typing.

    With the base loader every scalar stays a string and pydantic converts it by
    the schema, so a party code `NO` stays "NO" (not False) and a timestamp
    keeps exactly the timezone that was written. JSON integers are kept as
    their digits too, for the same reason (and so that 5,000 digits are a
    field's error, not Python's limit on converting them).
    """
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InputFileError(f"{path} is {size:,} bytes; files are limited to {MAX_FILE_BYTES:,} bytes (4 MiB)")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputFileError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise InputFileError(f"{path}: cannot be read ({err})") from None
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(text, object_pairs_hook=_json_object, parse_int=str)
            if _json_depth(data) > MAX_NESTING:
                raise _JsonRefused(f"nested more than {MAX_NESTING} levels deep")
            return data
        return yaml.load(text, Loader=_StrictLoader)
    except json.JSONDecodeError as err:
        raise InputFileError(f"{path}: not valid JSON: line {err.lineno}, column {err.colno}: {err.msg}") from None
    except _JsonRefused as err:
        raise InputFileError(f"{path}: not accepted: {err}") from None
    except RecursionError:  # json's own parser, before the depth above is counted
        raise InputFileError(f"{path}: nested more than {MAX_NESTING} levels deep") from None
    except yaml.YAMLError as err:
        where = ""
        mark = getattr(err, "problem_mark", None)
        if mark is not None:
            where = f"line {mark.line + 1}, column {mark.column + 1}: "
        problem = getattr(err, "problem", None) or str(err)
        raise InputFileError(f"{path}: not valid YAML: {where}{problem}") from None


def describe_errors(error: ValidationError) -> list[str]:
    """One line per problem: the field's path, then what is wrong with it (and what was given, cut short)."""
    lines: list[str] = []
    for e in error.errors(include_url=False):
        where = ".".join(str(part) for part in e["loc"]) or "(top level)"
        message = e["msg"].removeprefix("Value error, ")
        given = e.get("input")
        if e["type"] == "int_parsing_size" and isinstance(given, str):
            message = f"a number of {len(given.strip()):,} digits is more than can be read (at most 4,300)"
        elif isinstance(given, str | int | float) and e["type"] != "value_error":
            message += f" (got {_shown(given)})"
        lines.append(f"{where}: {message}")
    return lines


def _shown(given: str | int | float, room: int = 60) -> str:
    if not isinstance(given, str) or len(given) <= room:
        return repr(given)
    return f"{given[:room]!r}… ({len(given):,} characters)"


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


def read_attachment(path: Path) -> tuple[str, bytes]:
    """A file to attach: its name and bytes, refused (naming it) if it cannot be read or is over the limit."""
    from schemas.annexes import MAX_FILE_BYTES as MAX_ATTACHMENT_BYTES

    try:
        size = path.stat().st_size
        if path.is_dir():
            raise InputFileError(f"{path} is a folder, not a file; nothing was recorded")
        if size > MAX_ATTACHMENT_BYTES:
            raise InputFileError(
                f"{path} is {size:,} bytes; the limit is {MAX_ATTACHMENT_BYTES:,} bytes (25 MiB); nothing was recorded"
            )
        return path.name, path.read_bytes()
    except FileNotFoundError:
        raise InputFileError(f"{path}: no such file; nothing was recorded") from None
    except OSError as err:
        raise InputFileError(f"{path}: cannot be read ({err.strerror or err}); nothing was recorded") from None

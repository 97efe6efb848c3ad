"""Custom search attributes: how a consultation is found in the Temporal UI.

Shared by the workflow (upserts), `consult dev` and tests (registration) and
`consult list` (queries), so the names live in exactly one place. They are
never encrypted: keep them free of negotiation content.
"""

from typing import Any

from temporalio.common import SearchAttributeKey

STAGE = SearchAttributeKey.for_keyword("ConsultationStage")
PARTIES = SearchAttributeKey.for_keyword_list("ConsultationParties")
OVERDUE = SearchAttributeKey.for_bool("ConsultationOverdue")
NEXT_DEADLINE = SearchAttributeKey.for_datetime("ConsultationNextDeadline")
# The number of the round open now; unset when none is.
ROUND = SearchAttributeKey.for_int("ConsultationRound")

ALL: list[SearchAttributeKey[Any]] = [STAGE, PARTIES, OVERDUE, NEXT_DEADLINE, ROUND]

# The names `temporal server start-dev --search-attribute NAME=TYPE` expects.
_CLI_TYPE_NAMES = {
    "KEYWORD": "Keyword",
    "KEYWORD_LIST": "KeywordList",
    "BOOL": "Bool",
    "DATETIME": "Datetime",
    "INT": "Int",
    "TEXT": "Text",
    "FLOAT": "Double",
}


def cli_registrations() -> list[str]:
    """`Name=Type` pairs for the Temporal CLI's `--search-attribute` flag."""
    return [
        f"{key.name}={_CLI_TYPE_NAMES[key.indexed_value_type.name.removeprefix('INDEXED_VALUE_TYPE_')]}" for key in ALL
    ]

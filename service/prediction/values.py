"""Each reading's value (``models.number_value``) under the request's rule for reading a separator.

The rule is the request's ``decimal_separator`` query parameter (``auto``, ``point`` or
``comma``), else the service's ``DIGITIFY_DECIMAL_SEPARATOR``. The value is derived from the text
when the answer is made, so a task's stored result answers under the rule of the request that
fetches it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from models.number_value import SEPARATOR_RULES, SeparatorRule, parse_value
from service.prediction.schemas import BatchItem, BatchResult, PredictionResult
from service.prediction.uploads import InputError

SEPARATOR_PARAMETER = "decimal_separator"
Answer = TypeVar("Answer")


def separator_rule(query: Mapping[str, str], default: SeparatorRule) -> SeparatorRule:
    """The request's rule (its ``decimal_separator`` parameter), else ``default``; a bad one is a 400."""
    given = query.get(SEPARATOR_PARAMETER)
    if given is None:
        return default
    if given not in SEPARATOR_RULES:
        raise InputError(f"{SEPARATOR_PARAMETER} must be one of {', '.join(SEPARATOR_RULES)}, got {given!r}", 400)
    return cast(SeparatorRule, given)


def value_fields(text: str, rule: SeparatorRule) -> dict[str, str | None]:
    """``value``, ``value_error`` and ``decimal_separator`` of one reading's text."""
    parsed = parse_value(text, rule)
    return {"value": parsed.value, "value_error": parsed.error, "decimal_separator": parsed.decimal_separator}


def with_values(answer: Answer, rule: SeparatorRule) -> Answer:
    """A prediction or batch result with each reading's value; anything else (a refusal) as it is."""
    if isinstance(answer, PredictionResult):
        return cast(Answer, answer.model_copy(update=value_fields(answer.text, rule)))
    if isinstance(answer, BatchResult):
        items = [_valued_item(item, rule) for item in answer.results]
        return cast(Answer, answer.model_copy(update={"results": items}))
    return answer


def with_item_values(result: dict[str, Any], rule: SeparatorRule) -> dict[str, Any]:
    """A stored batch result (a task's, as a dict) with each reading's value."""
    return with_values(BatchResult.model_validate(result), rule).model_dump()


def _valued_item(item: BatchItem, rule: SeparatorRule) -> BatchItem:
    """A batch item with its value, if it has a reading."""
    return item.model_copy(update=value_fields(item.text, rule)) if item.ok and item.text is not None else item

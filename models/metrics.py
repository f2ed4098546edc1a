"""String metrics shared by training and evaluation: edit distance, exact match (of text and of value), CER."""

from __future__ import annotations

from collections.abc import Sequence

from models.number_value import parse_value


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance between two strings."""
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, start=1):
        current = [i]
        for j, char_b in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b)))
        previous = current
    return previous[-1]


def exact_match(predictions: Sequence[str], labels: Sequence[str]) -> float:
    """Share of predictions equal to their label."""
    return sum(p == t for p, t in zip(predictions, labels, strict=True)) / max(len(labels), 1)


def value_exact_match(predictions: Sequence[str], labels: Sequence[str]) -> float:
    """Share of predictions meaning the same number as their label (``models.number_value``, rule ``auto``).

    A label that is not a well-formed number is matched by its text.
    """

    def same(prediction: str, label: str) -> bool:
        expected = parse_value(label).value
        return prediction == label if expected is None else parse_value(prediction).value == expected

    return sum(same(p, t) for p, t in zip(predictions, labels, strict=True)) / max(len(labels), 1)


def character_error_rate(predictions: Sequence[str], labels: Sequence[str]) -> float:
    """Total edit distance divided by total label length."""
    errors = sum(edit_distance(p, t) for p, t in zip(predictions, labels, strict=True))
    return errors / max(sum(len(t) for t in labels), 1)

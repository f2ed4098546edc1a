"""String metrics shared by training and evaluation: edit distance, exact match, character error rate."""

from __future__ import annotations

from collections.abc import Sequence


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


def character_error_rate(predictions: Sequence[str], labels: Sequence[str]) -> float:
    """Total edit distance divided by total label length."""
    errors = sum(edit_distance(p, t) for p, t in zip(predictions, labels, strict=True))
    return errors / max(sum(len(t) for t in labels), 1)

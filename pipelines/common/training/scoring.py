"""Evaluation metrics over a set of predictions: exact match, CER, per-character accuracy,
breakdown by length, calibration (ECE and a reliability table) and character confusions.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from itertools import pairwise

import numpy as np

from models.metrics import character_error_rate, exact_match, value_exact_match

MISSING = "∅"


def align(prediction: str, label: str) -> list[tuple[str, str]]:
    """Align two strings by edit distance; return ``(actual, predicted)`` pairs, ``∅`` for a gap."""
    rows, cols = len(label) + 1, len(prediction) + 1
    cost = np.zeros((rows, cols), dtype=np.int64)
    cost[:, 0] = np.arange(rows)
    cost[0, :] = np.arange(cols)
    for i in range(1, rows):
        for j in range(1, cols):
            cost[i, j] = min(
                cost[i - 1, j] + 1, cost[i, j - 1] + 1, cost[i - 1, j - 1] + (label[i - 1] != prediction[j - 1])
            )
    pairs = []
    i, j = len(label), len(prediction)
    while i > 0 or j > 0:
        if i > 0 and j > 0 and cost[i, j] == cost[i - 1, j - 1] + (label[i - 1] != prediction[j - 1]):
            pairs.append((label[i - 1], prediction[j - 1]))
            i, j = i - 1, j - 1
        elif i > 0 and cost[i, j] == cost[i - 1, j] + 1:
            pairs.append((label[i - 1], MISSING))
            i -= 1
        else:
            pairs.append((MISSING, prediction[j - 1]))
            j -= 1
    return pairs[::-1]


def reliability(confidences: Sequence[float], correct: Sequence[bool], bins: int = 10) -> tuple[float, list[dict]]:
    """Expected calibration error and the per-bin table (mean confidence, accuracy, count)."""
    confidences = np.asarray(confidences, dtype=np.float64)
    correct = np.asarray(correct, dtype=np.float64)
    edges = np.linspace(0.0, 1.0, bins + 1)
    table, ece = [], 0.0
    for low, high in pairwise(edges):
        inside = (confidences >= low) & ((confidences < high) if high < 1.0 else (confidences <= high))
        if not inside.any():
            continue
        mean_confidence, accuracy = float(confidences[inside].mean()), float(correct[inside].mean())
        ece += inside.sum() / max(len(confidences), 1) * abs(mean_confidence - accuracy)
        table.append(
            {
                "bin": f"{low:.1f}-{high:.1f}",
                "confidence": round(mean_confidence, 4),
                "accuracy": round(accuracy, 4),
                "count": int(inside.sum()),
            }
        )
    return float(ece), table


def score(predictions: Sequence[str], labels: Sequence[str], confidences: Sequence[float]) -> dict:
    """All summary metrics for one evaluated set (JSON-ready)."""
    correct = [p == t for p, t in zip(predictions, labels, strict=True)]
    pairs = [pair for p, t in zip(predictions, labels, strict=True) for pair in align(p, t)]
    label_chars = sum(len(t) for t in labels)
    by_length: dict[int, list[bool]] = defaultdict(list)
    for label, right in zip(labels, correct, strict=True):
        by_length[len(label)].append(right)
    ece, _ = reliability(confidences, correct)
    return {
        "n": len(labels),
        "exact_match": round(exact_match(predictions, labels), 4),
        "value_exact_match": round(value_exact_match(predictions, labels), 4),
        "cer": round(character_error_rate(predictions, labels), 4),
        "char_accuracy": round(sum(a == p for a, p in pairs) / max(label_chars, 1), 4),
        "ece": round(ece, 4),
        "mean_confidence": round(float(np.mean(confidences)) if len(confidences) else 0.0, 4),
        "by_length": {
            str(length): {"n": len(rights), "exact_match": round(sum(rights) / len(rights), 4)}
            for length, rights in sorted(by_length.items())
        },
    }


def confusion_rows(predictions: Sequence[str], labels: Sequence[str]) -> list[dict]:
    """``{"actual", "predicted"}`` rows over aligned characters, for DVC's confusion plot."""
    return [
        {"actual": a, "predicted": p}
        for prediction, label in zip(predictions, labels, strict=True)
        for a, p in align(prediction, label)
    ]

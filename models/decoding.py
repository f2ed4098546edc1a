"""CTC decoding, greedy and beam, with a string score and per-character confidences."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from models.charset import BLANK, decode


@dataclass(frozen=True)
class Decoded:
    """A decoded string, its log-score and each character's probability.

    ``log_score`` is the sum of the log-probabilities of the characters (each at its most
    confident frame); for an empty string, the log-probability of its least confident blank
    frame. It separates right from wrong readings better than the best path's probability
    (which mostly counts confident blanks); ``models.calibration`` maps it to a confidence.
    """

    text: str
    log_score: float
    char_confidences: list[float]


def _log_score(log_probs: np.ndarray, confidences: list[float]) -> float:
    """The log-score of a decoding with these character confidences."""
    if not confidences:
        return float(log_probs[:, BLANK].min()) if len(log_probs) else 0.0
    return float(np.log(np.clip(confidences, 1e-12, 1.0)).sum())


def greedy_decode(log_probs: np.ndarray) -> Decoded:
    """Best-path decoding of one sequence ``(T, C)`` of log-probabilities.

    A character's confidence is the highest probability its class reaches over the frames
    that emit it.
    """
    best = log_probs.argmax(axis=1)
    best_log = log_probs[np.arange(len(best)), best]
    indices: list[int] = []
    confidences: list[float] = []
    previous = BLANK
    for frame, cls in enumerate(best):
        cls = int(cls)
        if cls != BLANK and cls != previous:
            indices.append(cls)
            confidences.append(math.exp(best_log[frame]))
        elif cls != BLANK:
            confidences[-1] = max(confidences[-1], math.exp(best_log[frame]))
        previous = cls
    return Decoded(decode(indices), _log_score(log_probs, confidences), confidences)


def beam_decode(log_probs: np.ndarray, beam_width: int = 8) -> Decoded:
    """CTC prefix beam search over one sequence ``(T, C)``.

    Strings are ranked by their total probability (summed over all alignments); per-character
    confidences come from the most likely alignment of the chosen string.
    """
    beams: dict[tuple[int, ...], tuple[float, float]] = {(): (0.0, -math.inf)}  # prefix -> (log p_blank, log p_char)
    for frame in log_probs:
        candidates: dict[tuple[int, ...], list[float]] = defaultdict(lambda: [-math.inf, -math.inf])
        top_classes = np.argsort(frame)[::-1][: beam_width + 1]
        for prefix, (p_blank, p_char) in beams.items():
            total = np.logaddexp(p_blank, p_char)
            for cls in top_classes:
                cls = int(cls)
                p = float(frame[cls])
                if cls == BLANK:
                    entry = candidates[prefix]
                    entry[0] = np.logaddexp(entry[0], total + p)
                    continue
                extended = (*prefix, cls)
                entry = candidates[extended]
                if prefix and prefix[-1] == cls:
                    entry[1] = np.logaddexp(entry[1], p_blank + p)
                    same = candidates[prefix]
                    same[1] = np.logaddexp(same[1], p_char + p)
                else:
                    entry[1] = np.logaddexp(entry[1], total + p)
        ranked = sorted(candidates.items(), key=lambda item: np.logaddexp(*item[1]), reverse=True)
        beams = {prefix: (scores[0], scores[1]) for prefix, scores in ranked[:beam_width]}
    prefix = max(beams.items(), key=lambda item: np.logaddexp(*item[1]))[0]
    text = decode(list(prefix))
    greedy = greedy_decode(log_probs)
    confidences = greedy.char_confidences if greedy.text == text else _aligned_confidences(log_probs, list(prefix))
    return Decoded(text, _log_score(log_probs, confidences), confidences)


def _aligned_confidences(log_probs: np.ndarray, indices: list[int]) -> list[float]:
    """Per-character confidences for a given string along its most likely CTC alignment (Viterbi)."""
    if not indices:
        return []
    states = [BLANK]
    for cls in indices:
        states += [cls, BLANK]
    steps, count = len(log_probs), len(states)
    score = np.full((steps, count), -np.inf)
    back = np.zeros((steps, count), dtype=np.int64)
    score[0, 0] = log_probs[0, states[0]]
    score[0, 1] = log_probs[0, states[1]]
    for t in range(1, steps):
        for s in range(count):
            options = [(score[t - 1, s], s)]
            if s >= 1:
                options.append((score[t - 1, s - 1], s - 1))
            if s >= 2 and states[s] != BLANK and states[s] != states[s - 2]:
                options.append((score[t - 1, s - 2], s - 2))
            best, origin = max(options)
            score[t, s] = best + log_probs[t, states[s]]
            back[t, s] = origin
    state = count - 1 if score[-1, count - 1] >= score[-1, count - 2] else count - 2
    confidences = [0.0] * len(indices)
    for t in range(steps - 1, -1, -1):
        if state % 2 == 1:
            position = state // 2
            confidences[position] = max(confidences[position], float(np.exp(log_probs[t, states[state]])))
        state = int(back[t, state])
    return confidences

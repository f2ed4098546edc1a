"""Read and write the labelled image folder: ``labels.csv`` (``filename,label``) beside the images.

This is the contract every dataset stage writes and ``pipelines.evaluate`` reads
(see ARCHITECTURE.md). Reading validates every row and names the file and row of any problem.
It sits at the top of :mod:`pipelines.common`, in none of its three packages, because all three
use it: data making writes it, training packs it, the corrections export writes it.
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from models.charset import CHARSET, invalid_chars

LABELS_FILE = "labels.csv"
SKIPPED_FILE = "SKIPPED"
HEADER = ("filename", "label")


class FolderError(ValueError):
    """A labelled folder is malformed; the message names the file and row."""


@dataclass(frozen=True)
class Sample:
    """One labelled image: its path on disk, its label text and its row in labels.csv."""

    path: Path
    label: str
    row: int = 0


def read_folder(directory: str | Path) -> list[Sample]:
    """Read and validate ``directory/labels.csv``; return its samples in file order.

    Raises FolderError naming the file and row when the CSV is missing or malformed, a label
    is outside the charset, or an image file does not exist.
    """
    directory = Path(directory)
    labels_path = directory / LABELS_FILE
    if not directory.is_dir():
        raise FolderError(f"{directory}: not a directory")
    if not labels_path.is_file():
        raise FolderError(f"{labels_path}: missing (a labelled folder needs labels.csv with header filename,label)")
    samples: list[Sample] = []
    with labels_path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None or tuple(h.strip() for h in header) != HEADER:
            raise FolderError(f"{labels_path}, row 1: header must be 'filename,label', got {header!r}")
        for row_number, row in enumerate(reader, start=2):
            if not row:
                continue
            if len(row) != 2:
                raise FolderError(f"{labels_path}, row {row_number}: expected 2 columns, got {len(row)}: {row!r}")
            filename, label = row[0].strip(), row[1].strip()
            bad = invalid_chars(label)
            if not label or bad:
                raise FolderError(
                    f"{labels_path}, row {row_number}: label {label!r} for {filename!r} "
                    f"is not a string over {CHARSET!r}"
                )
            path = directory / filename
            if not path.is_file():
                raise FolderError(f"{labels_path}, row {row_number}: image file {filename!r} does not exist")
            samples.append(Sample(path=path, label=label, row=row_number))
    if not samples:
        raise FolderError(f"{labels_path}: no rows")
    return samples


class FolderWriter:
    """Write images and their labels into a labelled folder, one PNG per sample."""

    def __init__(self, directory: str | Path, prefix: str = "") -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.prefix = prefix
        self._rows: list[tuple[str, str]] = []

    def add(self, image: Image.Image | np.ndarray, label: str) -> str:
        """Save ``image`` as the next PNG and record its label; return the file name."""
        filename = f"{self.prefix}{len(self._rows):06d}.png"
        if isinstance(image, np.ndarray):
            image = Image.fromarray(image)
        image.save(self.directory / filename)
        self._rows.append((filename, label))
        return filename

    def close(self) -> None:
        """Write ``labels.csv``."""
        write_labels(self.directory, self._rows)


def write_labels(directory: str | Path, rows: Iterable[tuple[str, str]]) -> None:
    """Write ``labels.csv`` with the given ``(filename, label)`` rows."""
    with (Path(directory) / LABELS_FILE).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)


def write_skipped(directory: str | Path, reason: str) -> None:
    """Leave ``directory`` holding only a ``SKIPPED`` file with the reason (no ``labels.csv``).

    A source with nothing to contribute (SVHN offline, USPS missing) still gives DVC its output;
    readers skip folders without ``labels.csv``.
    """
    directory = Path(directory)
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    (directory / SKIPPED_FILE).write_text(reason + "\n", encoding="utf-8")

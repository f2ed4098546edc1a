"""Write generated samples into ``train``/``val``/``test`` labelled folders, chunk by chunk, in worker processes.

Shared by the generated sources (fonts, pen strokes): each cuts a split into fixed-size chunks
(seeded per split and chunk, so the output does not depend on the number of workers) and
supplies a picklable function that turns one chunk's job into ``(image, label)`` samples.
"""

from __future__ import annotations

import logging
import multiprocessing
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from pipelines.labelled_folder import FolderWriter

log = logging.getLogger(__name__)

SPLITS = ("train", "val", "test")
CHUNK_SIZE = 250

Samples = list[tuple[np.ndarray, str]]


def chunk_sizes(count: int) -> list[tuple[int, int]]:
    """``(chunk_index, size)`` of the fixed-size chunks that make up ``count`` samples."""
    return [(index, min(CHUNK_SIZE, count - start)) for index, start in enumerate(range(0, count, CHUNK_SIZE))]


def write_splits(
    output: Path,
    counts: dict[str, int],
    make_jobs: Callable[[int, int], list[Any]],
    generate_chunk: Callable[[Any], Samples],
    workers: int,
) -> dict[str, int]:
    """Generate every split into ``output/<split>`` (replacing it); return the samples written per split.

    ``make_jobs(split_index, count)`` cuts a split into jobs; ``generate_chunk(job)`` runs in a worker.
    """
    written = {}
    with multiprocessing.get_context("fork").Pool(workers) if workers > 1 else _Inline() as pool:
        for split_index, split in enumerate(SPLITS):
            count = int(counts[split])
            shutil.rmtree(output / split, ignore_errors=True)
            writer = FolderWriter(output / split)
            for chunk in pool.imap(generate_chunk, make_jobs(split_index, count)):
                for image, label in chunk:
                    writer.add(image, label)
            writer.close()
            written[split] = count
            log.info("%s: %d samples", split, count)
    return written


class _Inline:
    """A stand-in for a process pool that maps in this process (``workers: 1``)."""

    def __enter__(self) -> _Inline:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def imap(self, function: Callable[[Any], Samples], items: list[Any]) -> Iterator[Samples]:
        """Map lazily, in order, in this process."""
        return map(function, items)

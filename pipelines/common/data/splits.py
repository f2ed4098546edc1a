"""The one writer of labelled splits: generate ``train``/``val``/``test`` folders chunk by chunk in worker processes.

Every generated source (fonts, pen strokes, real digits composed into numbers, the USPS
benchmark) cuts each split into fixed-size chunks and supplies a picklable function that turns
one :class:`Chunk` into samples. A chunk's random stream comes from ``(seed, split, chunk)`` or
from each sample's index, never from the number of workers, so the output depends only on the
parameters. Large read-only state (digit pools) goes in ``shared``: it reaches the workers once,
by fork, and :func:`shared_state` returns it there.
"""

from __future__ import annotations

import logging
import multiprocessing
import shutil
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pipelines.common.data.number_text import FORMS
from pipelines.common.labelled_folder import FolderWriter

log = logging.getLogger(__name__)

SPLITS = ("train", "val", "test")
CHUNK_SIZE = 250
DIGITS_FILE = "digits.csv"
FORMS_DIR = "forms"  # <source output>/forms/<form>/test: the source's test numbers of one written form


@dataclass(frozen=True)
class Chunk:
    """One worker call: ``count`` samples of one split, starting at sample ``start`` of that split."""

    split: str
    split_index: int
    chunk_index: int
    start: int
    count: int
    settings: Any


@dataclass(frozen=True)
class Generated:
    """One generated sample: the image, its label and (for composed real digits) the ids of those digits."""

    image: np.ndarray
    label: str
    digits: tuple[str, ...] = field(default=())


_SHARED: Any = None


def shared_state() -> Any:
    """The ``shared`` object given to :func:`write_splits`, in the worker (or in this process)."""
    return _SHARED


def _set_shared(shared: Any) -> None:
    """Pool initializer: keep the shared state in the worker process."""
    global _SHARED
    _SHARED = shared


def chunks(split: str, count: int, settings: Any) -> list[Chunk]:
    """Cut ``count`` samples of ``split`` into fixed-size chunks."""
    split_index = SPLITS.index(split)
    return [
        Chunk(split, split_index, index, start, min(CHUNK_SIZE, count - start), settings)
        for index, start in enumerate(range(0, count, CHUNK_SIZE))
    ]


def write_splits(
    output: Path,
    counts: Mapping[str, int],
    generate_chunk: Callable[[Chunk], list[Generated]],
    settings: Mapping[str, Any],
    workers: int,
    shared: Any = None,
) -> dict[str, int]:
    """Generate each split named in ``counts`` into ``output/<split>`` (replacing it); return the samples written.

    ``settings[split]`` is handed to ``generate_chunk`` with every chunk of that split. A
    ``digits.csv`` (the real digits each image is made of) is written beside ``labels.csv``
    when the samples name their digits.
    """
    started = time.perf_counter()
    written = {}
    _set_shared(shared)
    with _pool(workers, shared) as pool:
        for split in [s for s in SPLITS if s in counts]:
            count = int(counts[split])
            shutil.rmtree(output / split, ignore_errors=True)
            writer = FolderWriter(output / split)
            digit_rows = []
            for chunk in pool.imap(generate_chunk, chunks(split, count, settings[split])):
                for sample in chunk:
                    filename = writer.add(sample.image, sample.label)
                    if sample.digits:
                        digit_rows.append(f"{filename},{' '.join(sample.digits)}")
            writer.close()
            if digit_rows:
                (output / split / DIGITS_FILE).write_text("\n".join(["filename,digits", *digit_rows]) + "\n")
            written[split] = count
            log.info("%s: %d samples", split, count)
    log.info("wrote %d samples to %s in %.1f s", sum(written.values()), output, time.perf_counter() - started)
    return written


def _pool(workers: int, shared: Any) -> Any:
    """A fork pool of ``workers`` processes holding ``shared``, or an in-process stand-in for one worker."""
    if workers > 1:
        return multiprocessing.get_context("fork").Pool(workers, _set_shared, (shared,))
    return _Inline()


class _Inline:
    """A stand-in for a process pool that maps in this process (``workers: 1``)."""

    def __enter__(self) -> _Inline:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def imap(self, function: Callable[[Chunk], list[Generated]], items: list[Chunk]) -> Iterator[list[Generated]]:
        """Map lazily, in order, in this process."""
        return map(function, items)


def settings_by_split(settings: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """A source's settings for each split: the test split writes plain numbers, without the written
    forms' shares (``forms``), so a source's test set stays comparable across releases; the forms
    have test sets of their own (:func:`write_form_tests`).
    """
    return {split: {**settings, "forms": None} if split == "test" else dict(settings) for split in SPLITS}


def write_form_tests(
    output: Path,
    count: int,
    generate_chunk: Callable[[Chunk], list[Generated]],
    settings_for: Callable[[str, int], Any],
    workers: int,
    shared: Any = None,
) -> dict[str, int]:
    """Write a test split of ``count`` samples per written form (``number_text.FORMS``) into
    ``output/forms/<form>/test``, every number in that form; return the samples written per form.

    ``settings_for(form, index)`` gives that form's chunk settings (the test split's, with its own
    seed so the images are not those of the source's test set); ``shared`` must hold the test
    split's state, as for :func:`write_splits`.
    """
    if count <= 0:
        return {}
    return {
        form: write_splits(
            output / FORMS_DIR / form,
            {"test": count},
            generate_chunk,
            {"test": settings_for(form, index)},
            workers,
            shared,
        )["test"]
        for index, form in enumerate(FORMS)
    }

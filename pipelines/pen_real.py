"""Stage ``pen_real``: numbers written with real people's pen trajectories, drawn as a web canvas draws them.

Each number is written by one real writer of the UCI pendigits set
(:mod:`pipelines.common.data.pendigits`; Alpaydin and Alimoglu, UCI ML Repository, CC BY 4.0): every
digit is one of that writer's own trajectories, traced as a smooth curve through the sparse
tablet points and laid out by the pen writer of :mod:`pipelines.common.data.pen` (its spacing down to
touching, baseline drift, pen widths people pick, decimal points, and the pen writer's own signs,
commas, ``e`` and ``×`` in the same pen; a raised exponent's real digits are scaled and lifted like
the pen writer's). Then, as for ``pen_strokes``, a share is a bare canvas export (white or dark) and
the rest goes through the shared augmenter, some of it onto paper; in ``train`` and ``val`` a share
carries marks that are not part of the number (:mod:`pipelines.common.data.decorations`).

Writers never cross splits: ``test`` is written only by the 14 writers of the set's test file,
``val`` by ``val_writers`` of the 30 training writers, ``train`` by the others.
Writes ``<output_dir>/{train,val,test}/`` labelled folders plus ``digits.csv`` (the real digits
each image is made of). Without the pendigits folder the stage logs one line and writes each
split's ``SKIPPED`` (no ``labels.csv``): the pipeline goes on without this source.
"""

from __future__ import annotations

import logging
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from pipelines.common.data.augment import build_augmenter
from pipelines.common.data.decorations import Decorations
from pipelines.common.data.number_text import in_form, text_for
from pipelines.common.data.pen import draw_as_canvas, sample_writer, trace_number
from pipelines.common.data.pendigits import PENDIGITS_FILES, RealHand, load_pendigits, writer_split, writers_of
from pipelines.common.data.splits import (
    SPLITS,
    Chunk,
    Generated,
    settings_by_split,
    shared_state,
    write_form_tests,
    write_splits,
)
from pipelines.common.labelled_folder import write_skipped
from pipelines.common.params import start_stage

log = logging.getLogger("pipelines.pen_real")

SECTION = "pen_real"


def generate_chunk(chunk: Chunk) -> list[Generated]:
    """Write one chunk of numbers by the split's writers (``shared_state()[split]``)."""
    params = chunk.settings
    writers = shared_state()[chunk.split]
    names = sorted(writers)
    seed = int(params["seed"])
    rng = np.random.default_rng([seed, chunk.split_index, chunk.chunk_index])
    decorations = Decorations(params["decoration_fraction"][chunk.split], [seed, chunk.split_index, chunk.chunk_index])
    augment = build_augmenter(
        float(params["augment_strength"]), int(rng.integers(2**31)), paper_fraction=float(params["paper_fraction"])
    )
    samples = []
    for _ in range(chunk.count):
        label = text_for(rng, params)
        writer = sample_writer(rng)
        hand = RealHand(
            writers[names[int(rng.integers(len(names)))]],
            slant=float(rng.normal(0.0, 0.08)),
            aspect=float(np.sqrt(writer.aspect)),
        )
        strokes, widths = decorations(*trace_number(label, writer, rng, glyphs=hand), writer.pen)
        image = draw_as_canvas(strokes, widths, writer, rng, params["clean_fraction"], augment)
        samples.append(Generated(image, label, tuple(hand.used)))
    return samples


def generate(params: dict[str, Any]) -> dict[str, int]:
    """Run the stage with its parameter section; return the samples written per split (none without the data)."""
    output = Path(params["output_dir"])
    directory = Path(params["pendigits_dir"])
    train_digits = load_pendigits(directory, "train")
    test_digits = load_pendigits(directory, "test")
    if train_digits is None or test_digits is None:
        parts = {"train": train_digits, "test": test_digits}
        missing = [str(directory / PENDIGITS_FILES[part]) for part, digits in parts.items() if digits is None]
        reason = f"pen_real: {', '.join(missing)} not found: skipped (no labels.csv written)"
        log.warning("%s", reason)
        for split in SPLITS:
            write_skipped(output / split, reason)
        return {}
    train, val = writer_split(train_digits, int(params["val_writers"]), int(params["seed"]))
    writers = {"train": train, "val": val, "test": writers_of(test_digits)}
    for split in SPLITS:
        log.info("%s: %d writers", split, len(writers[split]))
    workers = max(1, int(params["workers"]))
    written = write_splits(output, params["counts"], generate_chunk, settings_by_split(params), workers, writers)
    write_form_tests(
        output, int(params.get("form_tests", 0)), generate_chunk, partial(in_form, params), workers, writers
    )
    return written


def main(argv: list[str] | None = None) -> None:
    """Entry point: ``python -m pipelines.pen_real [--params params.yaml]``."""
    params, _ = start_stage(SECTION, __doc__.splitlines()[0], argv)
    generate(params)


if __name__ == "__main__":
    main()

"""Stage ``pen_strokes``: numbers drawn as pen trajectories, rendered like a web canvas draws them.

This is the source closest to what users send from the drawing pad: the pen writer of
:mod:`pipelines.common.data.pen` draws each number; backgrounds are mostly canvas-like (white or
dark, ``clean_fraction`` with no augmentation at all), the rest through the shared augmenter.

With probability ``decoration_fraction`` (per split; none in test) a number gets marks that are
not part of it (:mod:`pipelines.common.data.decorations`: a currency sign or a stroke before it, a
trailing ``=`` or ``/=``, an underline, specks) that stay out of its label; that choice and the
marks draw from a generator of their own, so a split without decorations is the same sample for
sample as before they existed.

Writes ``<output_dir>/{train,val,test}/`` labelled folders (grey PNGs, 40-80 px high).
Val and test differ from train by their random streams only (templates are shared): they
measure fit to this source, not to new writers. Generation runs in ``workers`` processes
over fixed-size chunks seeded from ``(seed, split, chunk)``.
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
from pipelines.common.data.splits import Chunk, Generated, settings_by_split, write_form_tests, write_splits
from pipelines.common.params import start_stage

log = logging.getLogger("pipelines.pen_strokes")

SECTION = "pen_strokes"


def generate_chunk(chunk: Chunk) -> list[Generated]:
    """Draw one chunk of samples (``chunk.settings`` is the stage's parameter section)."""
    params = chunk.settings
    rng = np.random.default_rng([int(params["seed"]), chunk.split_index, chunk.chunk_index])
    decorations = Decorations(
        params["decoration_fraction"][chunk.split], [int(params["seed"]), chunk.split_index, chunk.chunk_index]
    )
    augment = build_augmenter(
        float(params["augment_strength"]), int(rng.integers(2**31)), paper_fraction=float(params["paper_fraction"])
    )
    samples = []
    for _ in range(chunk.count):
        label = text_for(rng, params)
        writer = sample_writer(rng)
        strokes, widths = decorations(*trace_number(label, writer, rng), writer.pen)
        image = draw_as_canvas(strokes, widths, writer, rng, params["clean_fraction"], augment)
        samples.append(Generated(image, label))
    return samples


def generate(params: dict[str, Any]) -> dict[str, int]:
    """Run the stage with its parameter section; return the number of samples written per split."""
    settings = settings_by_split(params)
    output, workers = Path(params["output_dir"]), max(1, int(params.get("workers", 2)))
    written = write_splits(output, params["counts"], generate_chunk, settings, workers)
    write_form_tests(output, int(params.get("form_tests", 0)), generate_chunk, partial(in_form, params), workers)
    return written


def main(argv: list[str] | None = None) -> None:
    """Entry point: ``python -m pipelines.pen_strokes [--params params.yaml]``."""
    params, _ = start_stage(SECTION, __doc__.splitlines()[0], argv)
    generate(params)


if __name__ == "__main__":
    main()

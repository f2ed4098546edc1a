"""Stage ``pen_strokes``: numbers drawn as pen trajectories, rendered like a web canvas draws them.

This is the source closest to what users send from the drawing pad: the pen writer of
:mod:`pipelines.common.pen` draws each number; backgrounds are mostly canvas-like (white or
dark, ``clean_fraction`` with no augmentation at all), the rest through the shared augmenter.

Writes ``<output_dir>/{train,val,test}/`` labelled folders (grey PNGs, 40-80 px high).
Val and test differ from train by their random streams only (templates are shared): they
measure fit to this source, not to new writers. Generation runs in ``workers`` processes
over fixed-size chunks seeded from ``(seed, split, chunk)``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from pipelines.common.augment import build_augmenter
from pipelines.common.number_text import sample_number
from pipelines.common.params import start_stage
from pipelines.common.pen import render, sample_writer, trace_number
from pipelines.common.splits import SPLITS, Chunk, Generated, write_splits

log = logging.getLogger("pipelines.pen_strokes")

SECTION = "pen_strokes"


def _canvas(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Make a bare canvas export: black ink on white, or light ink on a dark canvas."""
    if rng.random() < 0.7:
        return image
    background = int(rng.integers(0, 48))
    ink = int(rng.integers(215, 256))
    alpha = (255 - image.astype(np.float32)) / 255.0
    return np.round(background + (ink - background) * alpha).astype(np.uint8)


def generate_chunk(chunk: Chunk) -> list[Generated]:
    """Draw one chunk of samples (``chunk.settings`` is the stage's parameter section)."""
    params = chunk.settings
    rng = np.random.default_rng([int(params["seed"]), chunk.split_index, chunk.chunk_index])
    augment = build_augmenter(
        float(params["augment_strength"]), int(rng.integers(2**31)), paper_fraction=float(params["paper_fraction"])
    )
    samples = []
    for _ in range(chunk.count):
        label = sample_number(rng, int(params["min_length"]), int(params["max_length"]), params["decimal_fraction"])
        writer = sample_writer(rng)
        strokes, widths = trace_number(label, writer, rng)
        image = render(strokes, widths, rng, writer.pressure)
        clean = rng.random() < params["clean_fraction"]
        samples.append(Generated(_canvas(image, rng) if clean else augment(image=image)["image"], label))
    return samples


def generate(params: dict[str, Any]) -> dict[str, int]:
    """Run the stage with its parameter section; return the number of samples written per split."""
    settings = dict.fromkeys(SPLITS, params)
    return write_splits(
        Path(params["output_dir"]), params["counts"], generate_chunk, settings, max(1, int(params.get("workers", 2)))
    )


def main(argv: list[str] | None = None) -> None:
    """Entry point: ``python -m pipelines.pen_strokes [--params params.yaml]``."""
    params, _ = start_stage(SECTION, __doc__.splitlines()[0], argv)
    generate(params)


if __name__ == "__main__":
    main()

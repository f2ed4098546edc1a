"""Stage ``paper_numbers``: numbers written on paper forms and captured by scanners and phones.

What real scanned amounts and photographed notes look like and the canvas-like sources never
show: each number is written by one writer, either composed from real handwritten digits
(``pipelines.common.data.composition``, the same disjoint digit pools as ``handwritten_numbers``) or
drawn as pen trajectories with the pen writer's habits (``pipelines.common.data.pen``), often as an
amount is written (thousands commas, a trailing ``,-`` or ``.-``, all in the label, which says what
the image shows: :func:`written_text`; in train and val, ``decoration_fraction`` of the
pen-written ones also get a currency sign, an underline, a trailing ``=`` or specks from
:mod:`pipelines.common.data.decorations`, left out of the label, drawn from a random stream of
their own so the test split does not depend on them), then put on paper
(``pipelines.common.data.paper``): ruled lines, an amount box cut by the crop, grids, stamps,
bleed-through, pencil or ballpoint, uneven light, tilt, blur, JPEG and binarization.

Writes ``<output_dir>/{train,val,test}/`` labelled folders (``digits.csv`` names the real
digits). The test split is made of test-only digits and its own random streams: it is never
used for training, and ``evaluate`` reports it as the ``paper`` test set.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pipelines.common.data.composition import ComposeStyle, DigitSource, compose_number
from pipelines.common.data.decorations import Decorations
from pipelines.common.data.digit_pools import split_training_pools
from pipelines.common.data.number_text import as_written, text_for
from pipelines.common.data.paper import PaperStyle, put_on_paper
from pipelines.common.data.pen import draw_number
from pipelines.common.data.splits import SPLITS, Chunk, Generated, settings_by_split, shared_state, write_splits
from pipelines.common.params import start_stage

log = logging.getLogger("pipelines.paper_numbers")

SECTION = "paper_numbers"


@dataclass(frozen=True)
class PaperSettings:
    """What every chunk of one split needs: the stage's parameters, the compose style and the seed."""

    params: dict[str, Any]
    style: ComposeStyle
    seed: tuple[int, ...]


PLAIN = set("0123456789.")
"""The characters of a plain number, which is written as an amount."""


def written_text(rng: np.random.Generator, params: dict[str, Any]) -> str:
    """A number as it is written on a form, marks included: the image's label. A number in one of
    the written forms (``forms``) stays as that form writes it; a plain one is written as an amount
    (:func:`pipelines.common.data.number_text.as_written`).
    """
    number = text_for(rng, params)
    if not set(number) <= PLAIN:
        return number
    return as_written(number, rng, params["comma_fraction"], params["dash_fraction"])


def draw_chunk(chunk: Chunk) -> list[Generated]:
    """Write and capture one chunk of numbers on paper; each sample has its own seeded generator."""
    settings: PaperSettings = chunk.settings
    params = settings.params
    source: DigitSource = shared_state()[chunk.split]
    paper = PaperStyle()
    decoration_fraction = float(params["decoration_fraction"][chunk.split])
    samples = []
    previous: np.ndarray | None = None
    for index in range(chunk.start, chunk.start + chunk.count):
        rng = np.random.default_rng([*settings.seed, index])
        text = written_text(rng, params)
        ids: list[str] = []
        if rng.random() < params["pen_fraction"]:
            ink = draw_number(text, rng, Decorations(decoration_fraction, [*settings.seed, index]))
        else:
            ink, ids = compose_number(text, source, settings.style, rng)
        image = put_on_paper(ink, rng, paper, bleed=previous)
        previous = ink
        samples.append(Generated(image, text, tuple(ids)))
    return samples


def main(argv: list[str] | None = None) -> None:
    """Write the paper train / val / test sets."""
    params, _ = start_stage(SECTION, __doc__.splitlines()[0], argv)
    pools = split_training_pools(params["pools"])
    weights = params["pools"]["weights"]
    style = ComposeStyle(digit_height=tuple(params["digit_height"]), touch_fraction=float(params["touch_fraction"]))
    sources = {split: DigitSource(list(pools[split].values()), [weights[n] for n in pools[split]]) for split in SPLITS}
    by_split = settings_by_split(params)
    settings = {
        split: PaperSettings(params=by_split[split], style=style, seed=(int(params["seed"]), index))
        for index, split in enumerate(SPLITS)
    }
    write_splits(Path(params["output_dir"]), params["counts"], draw_chunk, settings, int(params["workers"]), sources)


if __name__ == "__main__":
    main()

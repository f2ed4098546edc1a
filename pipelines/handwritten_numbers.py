"""Stage ``handwritten_numbers``: numbers composed from real handwritten digits (MNIST, USPS, sklearn).

The digit pools are split first (train / val / test, disjoint by image content), then each
split's numbers are composed only from that split's digits. USPS ``zip.test.gz`` is never
used here: it is kept for ``pipelines.usps_benchmark``.

The composer imitates one writer per number: a digit height, a slant and a spacing habit,
varied a little per digit (scale, width, slant, rotation, baseline), gaps that sometimes
close so digits touch or overlap, a pen thickness, and a drawn decimal point
(``pipelines.common.data.composition``). A share of each split's numbers (``pen_redraw_fraction``,
per split; 0 for test so the test set stays as it was) has its digits thinned to their centre
lines and redrawn with a round pen of one random width, as on a web canvas
(``pipelines.common.data.pen_redraw``): real writers' shapes in the canvas look.
Writes ``datasets/handwritten/{train,val,test}``: labelled folders plus ``digits.csv``
naming the real digits each image is made of.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from pipelines.common.data.composition import ComposeStyle, DigitSource, NumberSettings, draw_numbers
from pipelines.common.data.digit_pools import split_training_pools
from pipelines.common.data.number_text import in_form, text_for
from pipelines.common.data.splits import SPLITS, settings_by_split, write_form_tests, write_splits
from pipelines.common.params import start_stage

log = logging.getLogger("pipelines.handwritten_numbers")

SECTION = "handwritten_numbers"


def number_settings(config: dict[str, Any], split: str, count: int) -> NumberSettings:
    """What one split's chunks draw: ``count`` texts sampled with the split's seed, and how to compose them."""
    split_index = SPLITS.index(split)
    rng = np.random.default_rng([int(config["seed"]), split_index])
    texts = tuple(text_for(rng, config) for _ in range(count))
    return NumberSettings(
        texts=texts,
        style=ComposeStyle(digit_height=tuple(config["digit_height"]), touch_fraction=float(config["touch_fraction"])),
        seed=(int(config["seed"]), split_index),
        augment_strength=float(config["augment_strength"]),
        dark_fraction=float(config["dark_fraction"]),
        pen_redraw_fraction=float(config.get("pen_redraw_fraction", {}).get(split, 0.0)),
    )


def generate(config: dict[str, Any]) -> dict[str, int]:
    """Compose the train / val / test sets and the written forms' test sets; return the numbers per split."""
    parts = split_training_pools(config["pools"])
    weights = config["pools"]["weights"]
    sources = {split: DigitSource(list(parts[split].values()), [weights[n] for n in parts[split]]) for split in SPLITS}
    for split in SPLITS:
        log.info("%s digits: %s", split, ", ".join(f"{p.name} {len(p)}" for p in parts[split].values()))
    by_split = settings_by_split(config)
    settings = {split: number_settings(by_split[split], split, int(config["sizes"][split])) for split in SPLITS}
    output, workers = Path(config["output_dir"]), int(config["workers"])
    counts = {split: len(settings[split].texts) for split in SPLITS}
    written = write_splits(output, counts, draw_numbers, settings, workers, shared=sources)
    form_tests = int(config.get("form_tests", 0))

    def form_settings(form: str, index: int) -> NumberSettings:
        return number_settings(in_form(config, form, index), "test", form_tests)

    write_form_tests(output, form_tests, draw_numbers, form_settings, workers, shared=sources)
    return written


def main(argv: list[str] | None = None) -> None:
    """Entry point: ``python -m pipelines.handwritten_numbers [--params params.yaml]``."""
    config, _ = start_stage(SECTION, __doc__.splitlines()[0], argv)
    generate(config)


if __name__ == "__main__":
    main()

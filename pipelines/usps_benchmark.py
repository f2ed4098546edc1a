"""Stage ``usps_benchmark``: the held-out benchmark of handwritten numbers made only of USPS *test* digits.

Numbers of 1 to ``max_digits`` digits, exactly ``decimal_share`` of them with a decimal
point, composed by the composer the handwritten source uses (``pipelines.common.data.composition``) from the 2,007
digits of ``zip.test.gz`` (never used in training), dark ink on white, no augmentation.
Writes ``datasets/usps_benchmark/test``: a labelled folder plus ``digits.csv``.

Without the USPS folder the stage logs one line and writes ``test/SKIPPED`` (the reason)
and no ``labels.csv``, so DVC still gets its output and readers can tell it was skipped.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np

from pipelines.common.data.composition import ComposeStyle, DigitSource, NumberSettings, draw_numbers
from pipelines.common.data.digit_pools import USPS_FILES, load_usps
from pipelines.common.data.number_text import sample_number
from pipelines.common.data.splits import write_splits
from pipelines.common.labelled_folder import write_skipped
from pipelines.common.params import start_stage

log = logging.getLogger("pipelines.usps_benchmark")

SECTION = "usps_benchmark"


def benchmark_texts(rng: np.random.Generator, size: int, max_digits: int, decimal_share: float) -> list[str]:
    """``size`` number strings of 1..``max_digits`` digits; exactly ``round(size * decimal_share)`` have a point.

    Integers have 1..max_digits digits; decimals 2..max_digits digits (plus the point).
    """
    decimal = set(rng.permutation(size)[: round(size * decimal_share)].tolist())
    return [
        sample_number(rng, 3, max_digits + 1, 1.0) if i in decimal else sample_number(rng, 1, max_digits, 0.0)
        for i in range(size)
    ]


def main(argv: list[str] | None = None) -> None:
    """Compose the USPS benchmark, or mark it skipped when the USPS folder is missing."""
    config, _ = start_stage(SECTION, __doc__.splitlines()[0], argv)
    directory = Path(config["output_dir"]) / "test"
    test_file = Path(config["usps_dir"]) / USPS_FILES["test"]
    if not test_file.is_file():
        reason = f"USPS benchmark: {test_file} not found: skipped (no labels.csv written)"
        log.warning("%s", reason)
        write_skipped(directory, reason)
        return
    started = time.perf_counter()
    digits = load_usps(config["usps_dir"], "test")
    assert digits is not None
    rng = np.random.default_rng(int(config["seed"]))
    texts = benchmark_texts(rng, int(config["size"]), int(config["max_digits"]), float(config["decimal_share"]))
    settings = NumberSettings(
        texts=tuple(texts),
        style=ComposeStyle(digit_height=tuple(config["digit_height"]), touch_fraction=float(config["touch_fraction"])),
        seed=(int(config["seed"]),),
        augment_strength=0.0,
        dark_fraction=0.0,
    )
    sources = {"test": DigitSource([digits], [1.0])}
    write_splits(
        directory.parent, {"test": len(texts)}, draw_numbers, {"test": settings}, int(config["workers"]), sources
    )
    log.info(
        "%s: %d numbers (%d with a point) from %d USPS test digits in %.1f s",
        directory,
        len(texts),
        sum("." in text for text in texts),
        len(digits),
        time.perf_counter() - started,
    )


if __name__ == "__main__":
    main()

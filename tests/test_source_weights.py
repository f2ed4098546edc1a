"""Source weights in training: each image of a weighted source (the people's corrections) is drawn
that many times per epoch; validation and unweighted training are as before."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from pipelines.common.training.packed_data import PackedDataModule, WidthBucketSampler, pack, source_repeats


def packed_sources(counts: dict[str, int]):
    """A packed set of blank-ish images whose labels name their source and index ("0", "1", ... by position)."""
    sources = [name for name, count in counts.items() for _ in range(count)]
    images = [np.full((32, 10 + i % 7), 0.5, dtype=np.float32) for i in range(len(sources))]
    return pack(images, [str(i) for i in range(len(sources))], sources)


def drawn(sampler: WidthBucketSampler) -> Counter:
    return Counter(index for batch in sampler for index in batch)


def test_each_image_is_drawn_its_source_weight_times_per_epoch():
    packed = packed_sources({"fonts": 30, "corrections": 5})
    data = PackedDataModule(packed, packed, batch_size=8, seed=0, source_weights={"corrections": 4, "absent": 9})
    sampler = data.train_dataloader().batch_sampler
    assert len(sampler) == -(-(30 + 5 * 4) // 8)
    for _ in range(2):
        counts = drawn(sampler)
        assert {i: counts[i] for i in range(30)} == dict.fromkeys(range(30), 1)
        assert {i: counts[i] for i in range(30, 35)} == dict.fromkeys(range(30, 35), 4)
    val = drawn(data.val_dataloader().batch_sampler)
    assert val == Counter(range(35)), "validation draws every image once"


def test_no_weights_draw_the_same_batches_as_before():
    packed = packed_sources({"fonts": 40})
    widths = packed.widths()
    weighted = PackedDataModule(packed, packed, batch_size=8, seed=3, source_weights={"corrections": 4})
    plain = WidthBucketSampler(widths, 8, shuffle=True, seed=3)
    assert list(weighted.train_dataloader().batch_sampler) == list(plain)


def test_a_weight_of_zero_leaves_a_source_out_and_a_bad_weight_is_named():
    assert source_repeats(["a", "b", "a"], {"b": 0}).tolist() == [1, 0, 1]
    for bad in (2.5, -1, True, "4"):
        with pytest.raises(ValueError, match=r"source_weights\.corrections must be a whole number >= 0"):
            source_repeats(["corrections"], {"corrections": bad})

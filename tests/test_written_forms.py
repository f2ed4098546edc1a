"""The written forms of numbers (issue 30): the texts the sources write, and their test sets."""

from __future__ import annotations

import re

import numpy as np
import pytest

from models.charset import invalid_chars
from models.number_value import parse_value
from pipelines import pen_strokes
from pipelines.common.data.number_text import FORMS, sample_number, sample_text, write_form
from pipelines.common.data.splits import FORMS_DIR
from pipelines.common.labelled_folder import read_folder, write_labels
from pipelines.common.params import load_section
from pipelines.number_forms import gather
from tests.drawing import draw_number

SHAPES = {
    "signed": r"[-+][0-9]+(\.[0-9]+)?",
    "decimal_comma": r"[0-9]+,[0-9]{1,2}",
    "thousands": r"[1-9][0-9]{0,2}(,[0-9]{3})+(\.[0-9]{2})?|[1-9][0-9]{0,2}(\.[0-9]{3})+(,[0-9]{2})?",
    "sci_e": r"[1-9](\.[0-9]{1,3})?e[-+]?[1-9][0-9]?",
    "sci_raised": r"([1-9](\.[0-9]{1,3})?×)?10\^-?[1-9][0-9]?",
}


@pytest.mark.parametrize("form", FORMS)
def test_each_form_writes_well_formed_numbers_of_its_shape(form):
    rng = np.random.default_rng(4)
    texts = [write_form(form, rng, 1, 8) for _ in range(500)]
    for text in texts:
        assert re.fullmatch(SHAPES[form], text), text
        assert not invalid_chars(text)
        assert parse_value(text).value is not None, text
    assert len(set(texts)) > 300


def test_the_value_each_form_means():
    rng = np.random.default_rng(9)
    for _ in range(200):
        comma = write_form("decimal_comma", rng)
        assert parse_value(comma).value == parse_value(comma.replace(",", ".")).value
        grouped = write_form("thousands", rng)
        plain = grouped.replace(",", "") if "," in grouped.split(".")[0] else grouped
        if "," not in grouped.split(".")[0]:  # continental: 1.250,00
            plain = grouped.replace(".", "").replace(",", ".")
        assert parse_value(grouped).value == parse_value(plain).value
    assert parse_value("6.02×10^23").value == "6.02e23"


def test_forms_appear_in_their_shares_and_none_leaves_the_draws_as_they_were():
    rng = np.random.default_rng(1)
    texts = [sample_text(rng, 1, 8, 0.35, {"signed": 0.2, "sci_e": 0.1}) for _ in range(2000)]
    assert 0.15 < sum(t[0] in "+-" for t in texts) / len(texts) < 0.25
    assert 0.07 < sum("e" in t for t in texts) / len(texts) < 0.13
    assert not any("," in t or "^" in t for t in texts)
    plain, formless = np.random.default_rng(5), np.random.default_rng(5)
    zero = dict.fromkeys(FORMS, 0.0)
    assert [sample_text(formless, 1, 8, 0.35, zero) for _ in range(50)] == [
        sample_number(plain, 1, 8, 0.35) for _ in range(50)
    ]


def test_an_unknown_form_is_named():
    with pytest.raises(ValueError, match="unknown form 'roman'"):
        write_form("roman", np.random.default_rng(0))


def test_number_forms_gathers_each_forms_test_numbers_from_every_source(tmp_path, caplog):
    sources = {}
    for name in ("strokes", "handwritten"):
        sources[name] = tmp_path / name
        for form in FORMS:
            folder = tmp_path / name / FORMS_DIR / form / "test"
            folder.mkdir(parents=True)
            texts = [write_form(form, np.random.default_rng(len(name))) for _ in range(3)]
            for index in range(len(texts)):
                draw_number(str(index)).save(folder / f"{index:06d}.png")  # the gatherer never looks
            write_labels(folder, [(f"{index:06d}.png", text) for index, text in enumerate(texts)])
    sources["pen_real"] = tmp_path / "pen_real"  # pendigits absent: it wrote no forms
    with caplog.at_level("WARNING"):
        written = gather(sources, tmp_path / "forms")
    assert written == dict.fromkeys(FORMS, 6)
    for form in FORMS:
        samples = read_folder(tmp_path / "forms" / form / "test")
        assert sorted({s.path.name.split("-")[0] for s in samples}) == ["handwritten", "strokes"]
        assert all(re.fullmatch(SHAPES[form], s.label) for s in samples)
    assert "pen_real has no test numbers of this form" in caplog.text


def test_a_sources_own_test_split_stays_plain_while_train_and_its_form_tests_are_written_in_forms(tmp_path):
    params = {
        **load_section("pen_strokes"),
        "output_dir": str(tmp_path / "strokes"),
        "counts": {"train": 20, "val": 10, "test": 20},
        "forms": {"signed": 1.0},
        "form_tests": 3,
        "workers": 1,
    }
    pen_strokes.generate(params)
    labels = {split: [s.label for s in read_folder(tmp_path / "strokes" / split)] for split in ("train", "val", "test")}
    assert all(label[0] in "+-" for label in labels["train"] + labels["val"])
    assert not any(label[0] in "+-" for label in labels["test"])
    for form in FORMS:
        written = [s.label for s in read_folder(tmp_path / "strokes" / FORMS_DIR / form / "test")]
        assert len(written) == 3 and all(re.fullmatch(SHAPES[form], label) for label in written)

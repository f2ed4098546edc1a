"""The paired model comparison (benchmarks/paired_models.py): McNemar's test, the per-set figures, a real run."""

from __future__ import annotations

import json

import pytest

from benchmarks.paired_models import compare, compare_digits, main, mcnemar, misread_digits
from pipelines.common.labelled_folder import write_labels
from tests.drawing import draw_number


def test_mcnemar_is_one_without_discordant_images_and_small_for_a_one_sided_split():
    assert mcnemar(0, 0) == 1.0
    assert mcnemar(5, 5) == pytest.approx(1.0)
    assert mcnemar(3, 15) == pytest.approx(0.0075, abs=1e-4)  # 2 * P(X <= 3), X ~ Binomial(18, 0.5)


def test_compare_counts_wins_and_losses_against_the_first_model():
    figures = compare({"base": [True, True, False, False], "other": [True, False, True, True]})
    assert figures["n"] == 4 and figures["standard_error"] == 25.0
    assert figures["base"] == {"exact_match": 0.5}
    assert figures["other"] == {"exact_match": 0.75, "won": 2, "lost": 1, "p": 1.0}


def test_a_digit_is_misread_when_any_of_its_occurrences_is():
    labels = ["17", "7.1", "44"]
    digits = [["a:1", "a:7"], ["a:7", "b:1"], ["c:4", "d:4"]]
    assert misread_digits(["17", "7.1", "44"], labels, digits) == set()
    assert misread_digits(["11", "7.1", "4"], labels, digits) == {"a:7", "c:4"}  # a dropped 4: the first one
    assert misread_digits(["117", "1.1", "49"], labels, digits) == {"a:7", "d:4"}  # an inserted 1 is no digit's


def test_digit_figures_count_distinct_digits_against_the_first_model():
    figures = compare_digits({"base": {"a", "b"}, "other": {"b", "c", "d"}}, distinct=10)
    assert figures["n"] == 10 and figures["base"] == {"misread": 2}
    assert figures["other"] == {"misread": 3, "won": 1, "lost": 2, "p": 1.0}


def test_a_real_run_reads_every_set_with_every_model(trained_model_file, tmp_path, capsys):
    folder = tmp_path / "drawn"
    folder.mkdir()
    texts = ["7", "42", "305", "6.1"]
    for index, text in enumerate(texts):
        draw_number(text).save(folder / f"{index}.png")
    write_labels(folder, [(f"{index}.png", text) for index, text in enumerate(texts)])
    code = main(["a=" + str(trained_model_file), "b=" + str(trained_model_file), "--set", f"drawn={folder}"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and report["base"] == "a"
    drawn = report["sets"]["drawn"]
    assert drawn["n"] == 4 and (drawn["b"]["won"], drawn["b"]["lost"], drawn["b"]["p"]) == (0, 0, 1.0)
    assert drawn["a"]["exact_match"] == drawn["b"]["exact_match"]
    assert "digits" not in drawn  # no digits.csv: not composed from real digits


def test_a_missing_model_file_is_one_line_and_status_2(tmp_path, capsys):
    folder = tmp_path / "empty"
    folder.mkdir()
    write_labels(folder, [])
    assert main([f"a={tmp_path / 'nope.pt'}", "--set", f"x={folder}"]) == 2
    assert "nope.pt" in capsys.readouterr().err

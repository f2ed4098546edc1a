"""The run summary ``./scripts/run.sh`` prints: short lines a person reads at a glance."""

from __future__ import annotations

from pipelines.common.training.summary import summary_lines


def test_summary_has_one_row_per_test_set_the_decision_and_the_address():
    evaluation = {
        "fonts": {"n": 300, "exact_match": 0.867, "cer": 0.047},
        "usps_benchmark": {"n": 1000, "exact_match": 0.869, "cer": 0.031},
        "svhn": {"skipped": "no data"},
    }
    decision = {"reason": "v2 (0.9400) takes 'champion' from v1 (0.9300)"}
    lines = summary_lines(evaluation, decision, 8080)
    text = "\n".join(lines)
    assert max(len(line) for line in lines) <= 80
    assert [line.split()[0] for line in lines[2:5]] == ["fonts", "usps_benchmark", "svhn"]
    assert "86.9 %" in lines[3] and "skipped" in lines[4]
    assert "v2 (0.9400) takes 'champion'" in text
    assert "http://localhost:8080" in text


def test_summary_says_when_nothing_was_recorded():
    lines = summary_lines({}, None, 3000)
    assert "registration: no decision recorded" in lines

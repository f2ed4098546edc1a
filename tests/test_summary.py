"""The run summary ``./scripts/run.sh`` prints: short lines a person reads at a glance, with the
figures of the model the service will serve."""

from __future__ import annotations

from pipelines.common.training.summary import summary_lines

TRAINED = {
    "fonts": {"n": 300, "exact_match": 0.867, "cer": 0.047},
    "usps_benchmark": {"n": 1000, "exact_match": 0.869, "cer": 0.031},
    "svhn": {"skipped": "no data"},
}
RELEASE = {"fonts": {"n": 300, "exact_match": 0.8867, "cer": 0.0352}, "paper": {"n": 600, "exact_match": 0.8033}}


def decision(promoted: bool, champion_release: str | None = None) -> dict:
    return {
        "version": "3",
        "champion_version": "1",
        "champion_release": champion_release,
        "gate_sets": {"val": {"n": 1600, "exact_match": 0.9156, "champion_exact_match": 0.92}},
        "promoted": promoted,
        "reason": "v3 (0.9400) takes 'champion' from v1 (0.9300)" if promoted else "v3 (0.9156) does not beat v1",
    }


def rows(lines: list[str]) -> dict[str, str]:
    """The table's rows by their first cell (the set's name)."""
    start = next(i for i, line in enumerate(lines) if line.startswith("--")) + 1
    end = lines.index("", start)
    return {line.split()[0]: line for line in lines[start:end]}


def test_a_promoted_model_shows_its_test_sets_the_decision_and_the_address():
    lines = summary_lines(TRAINED, decision(promoted=True), 8080)
    text = "\n".join(lines)
    assert max(len(line) for line in lines) <= 80
    assert list(rows(lines)) == ["fonts", "usps_benchmark", "svhn"]
    assert "86.9 %" in rows(lines)["usps_benchmark"] and "skipped" in rows(lines)["svhn"]
    assert "v3 (0.9400) takes 'champion'" in text
    assert "served: v3, the model this run trained" in lines
    assert lines[-1].startswith("service: http://localhost:8080")


def test_when_the_gate_keeps_the_release_its_figures_are_shown_not_the_new_models():
    lines = summary_lines(TRAINED, decision(False, "models/release/model.pt"), 3000, release=RELEASE)
    assert "served: v1, the release (models/release/model.pt)" in lines
    assert list(rows(lines)) == ["fonts", "paper"]
    assert "88.7 %" in rows(lines)["fonts"] and "3.5 %" in rows(lines)["fonts"]
    assert rows(lines)["paper"].split()[-1] == "-", "a figure the release does not have is a dash"
    assert "86.7 %" not in "\n".join(lines)


def test_when_the_gate_keeps_an_earlier_champion_its_gate_scores_are_shown():
    lines = summary_lines(TRAINED, decision(promoted=False), 3000)
    assert "served: v1, trained by an earlier run (its gate scores)" in lines
    assert list(rows(lines)) == ["val"] and "92.0 %" in rows(lines)["val"]


def test_summary_says_when_nothing_was_recorded():
    lines = summary_lines({}, None, 3000)
    assert "registration: no decision recorded" in lines

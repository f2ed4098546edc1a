"""Admin queries over real HTTP on rows written to the real database; injection attempts stay values."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest
from sqlalchemy import insert

from service.db.engine import make_engine
from service.db.tables import PredictionLog


@pytest.fixture(scope="module")
def seeded(server):
    """Twenty known rows for a fresh username, written straight into the server's database."""
    username = f"seed-{uuid.uuid4().hex[:8]}"
    rows = []
    for i in range(20):
        rows.append(
            {
                "id": str(uuid.uuid4()),
                "created_at": datetime(2026, 11, 1 + i % 3, 12, i),
                "username": username,
                "endpoint": "predict",
                "model_version": "digitify-crnn/v9" if i < 5 else "digitify-crnn/v8",
                "outcome": "ok" if i % 10 else "rejected",
                "error": None if i % 10 else "no number found: the image is blank",
                "text": None if i % 10 == 0 else ("3.14" if i % 2 else str(100 + i)),
                "value": None if i % 10 == 0 else ("3.14" if i % 2 else str(100 + i)),
                "confidence": None if i % 10 == 0 else i / 20,
                "char_confidences": None if i % 10 == 0 else [0.5, 0.5],
                "latency_ms": float(i + 1),
            }
        )
    engine = make_engine(server.database_url)
    with engine.begin() as connection:
        connection.execute(insert(PredictionLog), rows)
    engine.dispose()
    return username


def get(server, path, **params):
    with server.client(server.admin_token) as client:
        response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_filters(server, seeded):
    def total(**params):
        return get(server, "/admin/logs", user=seeded, **params)["total"]

    assert total() == 20
    assert total(text="3.14") == 10
    assert total(contains=".") == 10
    assert total(contains="6") == 2  # "106", "116"
    assert total(min_confidence=0.5, max_confidence=0.75) == 5
    assert total(since="2026-11-02T00:00:00", until="2026-11-03T00:00:00") == 7
    assert total(since="2026-11-02T01:00:00+01:00", until="2026-11-03T00:00:00Z") == 7
    assert total(model_version="digitify-crnn/v9") == 5
    assert total(outcome="rejected") == 2
    assert total(outcome="ok", contains="1", min_confidence=0.93) == 1
    assert total(min_value="100", max_value="110") == 4  # 102, 104, 106, 108: bounds inclusive, by value
    assert total(max_value="3.14") == 10
    assert total(min_value="1e2") == 8
    assert total(min_value="-5", max_value="3.139") == 0


def test_sorting_and_pagination(server, seeded):
    first = get(server, "/admin/logs", user=seeded, sort="confidence", order="asc", page_size=7)
    assert (first["total"], first["pages"], len(first["items"])) == (20, 3, 7)
    confidences = [item["confidence"] for item in first["items"]]
    assert confidences == sorted(confidences)
    last = get(server, "/admin/logs", user=seeded, sort="confidence", order="asc", page_size=7, page=3)
    assert [item["confidence"] for item in last["items"]][-2:] == [None, None]  # no confidence sorts last
    every_id = set()
    for page in (1, 2, 3):
        every_id |= {i["id"] for i in get(server, "/admin/logs", user=seeded, page_size=7, page=page)["items"]}
    assert len(every_id) == 20
    latency = get(server, "/admin/logs", user=seeded, sort="latency_ms", order="desc", page_size=1)["items"][0]
    assert latency["latency_ms"] == 20.0


@pytest.mark.parametrize(
    "params",
    [
        {"user": "' OR '1'='1"},
        {"user": "x'; DROP TABLE prediction_logs; --"},
        {"text": "1' OR 1=1 --"},
        {"model_version": "v1' UNION SELECT password_hash FROM users --"},
    ],
)
def test_injection_attempts_match_nothing_and_break_nothing(server, seeded, params):
    assert get(server, "/admin/logs", **params)["total"] == 0
    assert get(server, "/admin/logs", user=seeded)["total"] == 20


@pytest.mark.parametrize(
    "params",
    [
        {"sort": "confidence; DROP TABLE users"},
        {"order": "desc; --"},
        {"contains": "1' OR '1'='1"},
        {"contains": "x"},
        {"min_confidence": "0 OR 1=1"},
        {"min_value": "1 OR 1=1"},
        {"max_value": "NaN"},
        {"since": "yesterday'--"},
        {"outcome": "ok' OR 'x'='x"},
        {"page": "0"},
        {"page_size": "100000"},
    ],
)
def test_invalid_parameters_are_422(server, params):
    with server.client(server.admin_token) as client:
        response = client.get("/admin/logs", params=params)
    assert response.status_code == 422, response.text
    assert response.json()["error"].startswith("invalid request") or "contains" in response.json()["error"]


def test_stats(server, seeded):
    summary = get(server, "/admin/stats", user=seeded, low_confidence=0.5)
    assert summary["total"] == 20
    # Day by day, the ok rows' confidences are .15-.90, .05-.95 (one row rejected each) and .10-.85, six each.
    assert summary["per_day"] == [
        {"day": "2026-11-01", "count": 7, "mean_confidence": pytest.approx(0.525), "low_confidence_rate": 0.5},
        {"day": "2026-11-02", "count": 7, "mean_confidence": pytest.approx(0.5), "low_confidence_rate": 0.5},
        {"day": "2026-11-03", "count": 6, "mean_confidence": pytest.approx(0.475), "low_confidence_rate": 0.5},
    ]
    assert sum(b["count"] for b in summary["confidence_histogram"]) == 18
    assert summary["low_confidence_rate"] == pytest.approx(9 / 18)
    assert summary["latency_ms"] == {"p50": 10.0, "p95": 19.0, "p99": 20.0}
    assert summary["per_user"] == [{"key": seeded, "count": 20}]
    assert {"key": "digitify-crnn/v9", "count": 5} in summary["per_model_version"]
    assert {"key": "rejected", "count": 2} in summary["by_outcome"]


def test_daily_confidence_uses_the_same_threshold_as_the_global_rate(server, seeded):
    summary = get(server, "/admin/stats", user=seeded, low_confidence=0.4)
    assert summary["low_confidence_rate"] == pytest.approx(7 / 18)
    assert [day["low_confidence_rate"] for day in summary["per_day"]] == pytest.approx([2 / 6, 3 / 6, 2 / 6])
    only_rejected = get(server, "/admin/stats", user=seeded, outcome="rejected")
    assert [(d["count"], d["mean_confidence"], d["low_confidence_rate"]) for d in only_rejected["per_day"]] == [
        (1, None, None),
        (1, None, None),
    ]

"""Predictions over real HTTP: upload, base64, batch; every answer is logged (async: test_service_http_tasks.py)."""

from __future__ import annotations

import base64
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from models.charset import CHARSET
from models.number_value import parse_value
from models.recognizer import Recognizer
from tests.drawing import draw_number
from tests.service.harness import png_bytes

RESULT_FIELDS = {
    "text",
    "value",
    "value_error",
    "decimal_separator",
    "confidence",
    "char_confidences",
    "model_version",
    "log_id",
}


def check_result(result: dict, rule: str = "auto") -> None:
    assert set(result) == RESULT_FIELDS
    assert set(result["text"]) <= set(CHARSET)
    parsed = parse_value(result["text"], rule)  # type: ignore[arg-type]
    assert (result["value"], result["value_error"]) == (parsed.value, parsed.error)
    assert result["decimal_separator"] == parsed.decimal_separator
    assert 0.0 <= result["confidence"] <= 1.0
    assert len(result["char_confidences"]) == len(result["text"])
    assert result["model_version"] == "digitify-crnn/v1"


def test_upload_base64_and_data_url_give_the_same_answer(server, number_png):
    username, token = server.new_user()
    encoded = base64.b64encode(number_png).decode()
    with server.client(token) as client:
        uploaded = client.post("/predict", files={"image": ("n.png", number_png, "image/png")})
        bare = client.post("/predict_base64", json={"image": encoded})
        data_url = client.post("/predict_base64", json={"image": f"data:image/png;base64,{encoded}"})
    for response in (uploaded, bare, data_url):
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/json"
        assert response.headers["x-content-type-options"] == "nosniff"  # the security headers reach every route
        check_result(response.json())
    answers = {(r.json()["text"], round(r.json()["confidence"], 6)) for r in (uploaded, bare, data_url)}
    assert len(answers) == 1
    rows = server.wait_for_logs(username, 3)["items"]
    assert {row["id"] for row in rows} == {r.json()["log_id"] for r in (uploaded, bare, data_url)}
    row = next(r for r in rows if r["id"] == uploaded.json()["log_id"])
    assert row["outcome"] == "ok" and row["endpoint"] == "predict" and row["username"] == username
    assert row["text"] == uploaded.json()["text"] and row["char_confidences"] == uploaded.json()["char_confidences"]
    assert row["image_bytes"] == len(number_png) and len(row["image_sha256"]) == 64
    assert row["image_width"] > row["image_height"] > 0 and row["latency_ms"] > 0


def test_each_reading_has_its_value_by_the_rule_the_request_names(server):
    """``value`` follows ``decimal_separator`` (else the service's default, auto); a bad rule is a logged 400."""
    username, token = server.new_user()
    image = png_bytes(draw_number("4.5", height=48))
    with server.client(token) as client:
        by_default = client.post("/predict", files={"image": ("n.png", image, "image/png")})
        by_comma = client.post(
            "/predict", params={"decimal_separator": "comma"}, files={"image": ("n.png", image, "image/png")}
        )
        batch = client.post(
            "/predict_batch", params={"decimal_separator": "point"}, files=[("images", ("n.png", image))]
        )
        bad = client.post("/predict", params={"decimal_separator": "dot"}, files={"image": ("n.png", image)})
    assert by_default.status_code == by_comma.status_code == batch.status_code == 200
    check_result(by_default.json())
    check_result(by_comma.json(), "comma")
    [item] = batch.json()["results"]
    point = parse_value(item["text"], "point")
    assert (item["value"], item["value_error"], item["decimal_separator"]) == (
        point.value,
        point.error,
        point.decimal_separator,
    )
    if by_default.json()["text"] == "4.5":  # what a well-read drawing gives under each rule
        assert (by_default.json()["value"], by_default.json()["decimal_separator"]) == ("4.5", "point")
        assert by_comma.json()["value"] is None and "grouped by three" in by_comma.json()["value_error"]
    assert bad.status_code == 400
    assert bad.json()["error"] == "decimal_separator must be one of auto, point, comma, got 'dot'"
    rows = {row["id"]: row for row in server.wait_for_logs(username, 4)["items"]}
    answers = [by_default.json(), by_comma.json(), item, bad.json()]
    assert [rows[answer["log_id"]]["value"] for answer in answers] == [  # each row holds the value as answered
        by_default.json()["value"],
        by_comma.json()["value"],
        item["value"],
        None,
    ]
    value = by_default.json()["value"]
    if value is not None:  # the admin log finds the row by its value's range
        with server.client(server.admin_token) as admin:
            found = admin.get("/admin/logs", params={"user": username, "min_value": value, "max_value": value})
            above = admin.get("/admin/logs", params={"user": username, "min_value": f"{value}1"})
        assert by_default.json()["log_id"] in {row["id"] for row in found.json()["items"]}
        assert by_default.json()["log_id"] not in {row["id"] for row in above.json()["items"]}


def test_concurrent_requests_get_the_answers_each_image_gets_alone(server, model_env):
    """Requests that share a model batch (images of many widths) answer exactly as the model reads each alone."""
    texts = ["7", "42", "3.14", "2026", "0.5", "918273", "60.25", "11", "8", "123456789"] * 3
    images = [png_bytes(draw_number(text, height=40 + 3 * (i % 7))) for i, text in enumerate(texts)]
    recognizer = Recognizer.from_file(Path(model_env["BENTOML_HOME"]).parent / "model.pt")
    _, token = server.new_user()

    def predict(image: bytes) -> dict:
        with server.client(token) as client:
            response = client.post("/predict", files={"image": ("n.png", image, "image/png")})
        assert response.status_code == 200, response.text
        return response.json()

    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(predict, images))
    for image, answer in zip(images, answers, strict=True):
        [alone] = recognizer.predict([image])
        assert answer["text"] == alone.text
        assert answer["confidence"] == pytest.approx(alone.confidence, abs=1e-4)
        assert answer["char_confidences"] == pytest.approx(alone.char_confidences, abs=1e-3)


def test_batch_reads_every_image_and_rejects_only_the_bad_ones(server, number_png, blank_png):
    username, token = server.new_user()
    images = [number_png, png_bytes(draw_number("7")), blank_png, b"not an image"]
    with server.client(token) as client:
        response = client.post(
            "/predict_batch", files=[("images", (f"{i}.png", data)) for i, data in enumerate(images)]
        )
    assert response.status_code == 200, response.text
    batch = response.json()
    assert (batch["count"], batch["ok"], batch["rejected"]) == (4, 2, 2)
    assert [item["ok"] for item in batch["results"]] == [True, True, False, False]
    assert [item["status"] for item in batch["results"]] == [200, 200, 422, 400]
    assert "no number found" in batch["results"][2]["error"]
    rows = server.wait_for_logs(username, 4)["items"]
    assert {row["batch_id"] for row in rows} == {batch["batch_id"]}
    assert sorted(row["outcome"] for row in rows) == ["ok", "ok", "rejected", "rejected"]


def test_batch_over_the_limit_is_refused(server, number_png):
    _, token = server.new_user()
    with server.client(token) as client:
        response = client.post("/predict_batch", files=[("images", (f"{i}.png", number_png)) for i in range(17)])
    assert response.status_code == 413
    assert "/predict_async" in response.json()["error"]


@pytest.mark.parametrize("path", ["/livez", "/readyz", "/healthz", "/docs", "/docs.json", "/"])
def test_probes_docs_and_home_need_no_token(server, path):
    with server.client() as client:
        assert client.get(path).status_code == 200


def test_openapi_documents_the_routes(server):
    with server.client() as client:
        paths = client.get("/docs.json").json()["paths"]
    for route in ("/predict", "/predict_base64", "/predict_batch", "/auth/login", "/auth/register", "/admin/logs"):
        assert route in paths

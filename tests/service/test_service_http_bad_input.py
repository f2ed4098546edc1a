"""Bad input gets a readable 4xx, is logged as rejected, and the service keeps serving."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.service.harness import png_bytes


def bomb_png() -> bytes:
    """A small file that decodes to 400 million pixels."""
    buffer = io.BytesIO()
    Image.new("1", (20000, 20000), 1).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


CASES = {
    "not an image": (b"%PDF-1.4 definitely not an image", 400, "not a readable image"),
    "truncated png": (None, 400, "not a readable image"),
    "empty file": (b"", 400, "empty"),
    "one pixel": (png_bytes(Image.new("L", (1, 1), 0)), 422, "no number found"),
    "blank canvas": (png_bytes(Image.new("L", (300, 100), 255)), 422, "no number found: the image is blank"),
    "transparent canvas": (png_bytes(Image.new("RGBA", (300, 100), (0, 0, 0, 0))), 422, "no number found"),
    "decompression bomb": (bomb_png(), 400, "too large"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_upload(server, number_png, case):
    data, status, message = CASES[case]
    data = number_png[: len(number_png) // 2] if data is None else data
    _, token = server.new_user()
    with server.client(token) as client:
        response = client.post("/predict", files={"image": ("x.png", data, "image/png")})
        assert response.status_code == status, response.text
        assert message in response.json()["error"]
        assert response.json()["log_id"]
        assert client.post("/predict", files={"image": ("n.png", number_png)}).status_code == 200


@pytest.mark.parametrize(
    ("value", "status", "message"),
    [
        ("", 400, "empty"),
        ("!!!not base64!!!", 400, "not valid base64"),
        ("data:text/plain;base64,aGVsbG8=", 415, "not an image"),
        ("data:image/png,rawdata", 400, "base64"),
        ("aGVsbG8gd29ybGQ=", 400, "not a readable image"),
    ],
)
def test_bad_base64(server, number_png, value, status, message):
    _, token = server.new_user()
    with server.client(token) as client:
        response = client.post("/predict_base64", json={"image": value})
        assert response.status_code == status, response.text
        assert message in response.json()["error"]


def test_wrong_content_types_empty_bodies_and_wrong_fields(server, number_png):
    username, token = server.new_user()
    with server.client(token) as client:
        as_json = client.post("/predict", json={"image": "x"})
        assert as_json.status_code == 415 and "multipart/form-data" in as_json.json()["error"]
        raw = client.post("/predict", content=number_png, headers={"content-type": "image/png"})
        assert raw.status_code == 415
        upload_to_json_route = client.post("/predict_base64", files={"image": ("n.png", number_png)})
        assert upload_to_json_route.status_code == 415
        empty = client.post("/predict", content=b"", headers={"content-type": "multipart/form-data; boundary=x"})
        assert empty.status_code == 400 and "empty" in empty.json()["error"]
        wrong_field = client.post("/predict", files={"file": ("n.png", number_png)})
        assert wrong_field.status_code == 400 and "'image'" in wrong_field.json()["error"]
        text_field = client.post("/predict", data={"image": "hello"}, files={"other": ("", b"")})
        assert text_field.status_code == 400
        two = client.post("/predict", files=[("image", ("a.png", number_png)), ("image", ("b.png", number_png))])
        assert two.status_code == 400 and "one image" in two.json()["error"]
        malformed = client.post(
            "/predict", content=b"garbage", headers={"content-type": "multipart/form-data; boundary=xyz"}
        )
        assert malformed.status_code == 400
        bad_json = client.post("/predict_base64", content=b"{not json", headers={"content-type": "application/json"})
        assert bad_json.status_code == 400 and "JSON" in bad_json.json()["error"]
        no_image = client.post("/predict_base64", json={"picture": "abc"})
        assert no_image.status_code == 400 and "'image'" in no_image.json()["error"]
        assert client.post("/predict", files={"image": ("n.png", number_png)}).status_code == 200
    refused = [as_json, raw, upload_to_json_route, empty, wrong_field, text_field, two, malformed, bad_json, no_image]
    rows = server.wait_for_logs(username, len(refused) + 1)["items"]
    rejected = {row["id"]: row for row in rows if row["outcome"] == "rejected"}
    assert set(rejected) == {response.json()["log_id"] for response in refused}
    assert rejected[as_json.json()["log_id"]]["endpoint"] == "predict"
    assert rejected[as_json.json()["log_id"]]["error"].startswith("this route takes")


def test_over_the_size_limit_is_413_whether_declared_or_streamed(server, number_png):
    _, token = server.new_user()
    big = number_png + b"\0" * (3 * 1024 * 1024)
    with server.client(token) as client:
        declared = client.post("/predict", files={"image": ("big.png", big)})
        assert declared.status_code == 413, declared.text

        def chunks():
            yield b'--b\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\n\r\n'
            for _ in range(40):
                yield b"\0" * 100_000

        streamed = client.post(
            "/predict", content=chunks(), headers={"content-type": "multipart/form-data; boundary=b"}
        )
        assert streamed.status_code == 413
        just_over = number_png + b"\0" * (1024 * 1024)
        encoded = client.post("/predict", files={"image": ("big.png", just_over)})
        assert encoded.status_code == 413 and "limit" in encoded.json()["error"]
        assert client.post("/predict", files={"image": ("n.png", number_png)}).status_code == 200


def test_bytes_hidden_after_an_image_are_read_but_never_kept(server, number_png):
    """20 uploads of a small PNG followed by 4.9 MB of random bytes once added 98 MB to the image store."""
    import hashlib
    import os

    _, token = server.new_user()
    smuggled = number_png + os.urandom(900_000)  # under the tests' 1 MB upload limit
    with server.client(token) as client:
        for data in (smuggled, number_png):
            answer = client.post("/predict", files={"image": ("n.png", data, "image/png")})
            assert answer.status_code == 200, answer.text
    stored = {path.name for path in (server.work / "images").rglob("*") if path.is_file()}
    assert hashlib.sha256(smuggled).hexdigest() not in stored
    assert hashlib.sha256(number_png).hexdigest() in stored


def test_a_flood_of_refused_requests_is_cut_off_before_it_fills_the_log(server, blank_png, number_png):
    """During an outage every refusal waits in the spool: one user's flood of bad input must stop at a bound."""
    from service.prediction.predictor import REFUSALS_BURST

    username, token = server.new_user()
    with server.client(token) as client:
        statuses = [
            client.post("/predict", files={"image": ("blank.png", blank_png, "image/png")}).status_code
            for _ in range(REFUSALS_BURST + 30)
        ]
        assert statuses[:REFUSALS_BURST] == [422] * REFUSALS_BURST
        assert statuses.count(429) >= 20, statuses
        limited = client.post("/predict", files={"image": ("n.png", number_png, "image/png")})
        assert limited.status_code == 429 and "refused" in limited.json()["error"]
        assert int(limited.headers["retry-after"]) >= 1
    logged = server.wait_for_logs(username, statuses.count(422))["total"]
    assert logged == statuses.count(422)  # the 429s are not logged
    _, other = server.new_user()  # other users are not affected
    with server.client(other) as client:
        assert client.post("/predict", files={"image": ("n.png", number_png, "image/png")}).status_code == 200

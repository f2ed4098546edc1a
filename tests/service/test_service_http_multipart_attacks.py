"""Hostile multipart bodies over real HTTP: refused with a 4xx at once, while the probes keep answering."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

BOUNDARY = b"attack"
MULTIPART = {"content-type": "multipart/form-data; boundary=attack"}


def body_with_part_header(header: bytes, payload: bytes) -> bytes:
    """A one-part multipart body whose part headers are ``header``."""
    return b"--" + BOUNDARY + b"\r\n" + header + b"\r\n\r\n" + payload + b"\r\n--" + BOUNDARY + b"--\r\n"


def timed_post(url: str, token: str, path: str, body: bytes) -> tuple[httpx.Response, float]:
    """POST ``body`` and return the answer and the seconds it took."""
    started = time.perf_counter()
    response = httpx.post(
        f"{url}{path}", content=body, headers={**MULTIPART, "authorization": f"Bearer {token}"}, timeout=60
    )
    return response, time.perf_counter() - started


HOSTILE = {
    "content-disposition repeated 8,000 times (160 KB)": b"content-disposition:" * 8000,
    "a 160 KB name parameter": b'Content-Disposition: form-data; name="' + b"i" * 160_000 + b'"; filename="a.png"',
    "a thousand header lines": b"\r\n".join([b"X-Filler: 1"] * 1000)
    + b'\r\nContent-Disposition: form-data; name="image"; filename="a.png"',
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_part_headers_are_refused_within_a_second_while_readyz_answers(server, number_png, case):
    _, token = server.new_user()
    body = body_with_part_header(HOSTILE[case], number_png)
    with ThreadPoolExecutor(max_workers=4) as pool:
        attacks = [pool.submit(timed_post, server.url, token, "/predict", body) for _ in range(4)]
        probe_times = []
        while not all(attack.done() for attack in attacks):
            started = time.perf_counter()
            assert httpx.get(f"{server.url}/readyz", timeout=5).status_code == 200
            probe_times.append(time.perf_counter() - started)
        answers = [attack.result() for attack in attacks]
    for response, seconds in answers:
        assert response.status_code == 400, response.text
        assert "malformed" in response.json()["error"] and response.json()["log_id"]
        assert seconds < 1.0, f"{case}: answered in {seconds:.2f}s"
    assert max(probe_times, default=0.0) < 1.0
    with server.client(token) as client:
        assert client.post("/predict", files={"image": ("n.png", number_png)}).status_code == 200


def test_parts_beyond_the_route_limit_stop_the_parse(server, number_png):
    _, token = server.new_user()
    tiny_part = b'--attack\r\nContent-Disposition: form-data; name="images"; filename="a.png"\r\n\r\nx\r\n'
    many = tiny_part * 50_000 + b"--attack--\r\n"
    response, seconds = timed_post(server.url, token, "/predict_batch", many)
    assert response.status_code == 413 and "at most 16" in response.json()["error"], response.text
    assert seconds < 1.0
    one_too_many = timed_post(server.url, token, "/predict", tiny_part.replace(b"images", b"image") * 2)[0]
    assert one_too_many.status_code == 400 and "one image" in one_too_many.json()["error"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'--attack\r\nContent-Disposition: form-data; name="image"; filename="a"\r\n\r\nabc', "closing boundary"),
        (b'--other\r\nContent-Disposition: form-data; name="image"\r\n\r\nabc\r\n--other--\r\n', "malformed"),
        (b"--attack\r\nContent-Type: image/png\r\n\r\nabc\r\n--attack--\r\n", "no Content-Disposition"),
        (b"--attack\r\nContent-Disposition: attachment\r\n\r\nabc\r\n--attack--\r\n", "no form-data name"),
    ],
)
def test_malformed_multipart_is_a_readable_400(server, body, message):
    _, token = server.new_user()
    response, _ = timed_post(server.url, token, "/predict", body)
    assert response.status_code == 400 and message in response.json()["error"], response.text


def test_deeply_nested_json_is_a_readable_400(server, number_png):
    _, token = server.new_user()
    nested = b'{"image": "x", "deep": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"
    with server.client(token) as client:
        response = client.post("/predict_base64", content=nested, headers={"content-type": "application/json"})
        assert response.status_code == 400 and "nested too deeply" in response.json()["error"], response.text
        assert client.post("/predict", files={"image": ("n.png", number_png)}).status_code == 200

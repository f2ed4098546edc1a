"""Two inference processes behind one web worker, over real HTTP: the same answers, and a killed one costs no row.

The same non-default server also traces every request (``DIGITIFY_TRACING=true``, sample rate 1),
against which the default server shows that BentoML's tracing middleware is skipped unless asked for.
"""

from __future__ import annotations

import base64
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psutil
import pytest

from models.recognizer import Recognizer
from tests.drawing import draw_number
from tests.service.harness import ADMIN, ServiceProcess, login, png_bytes, register, service_env


@pytest.fixture(scope="module")
def two_processes(model_env, tmp_path_factory):
    """The service with ``DIGITIFY_INFERENCE_PROCESSES=2`` on SQLite, tracing every request."""
    work = tmp_path_factory.mktemp("serve-two-inference")
    env = service_env(f"sqlite:///{work / 'predictions.db'}", work, model_env)
    env["DIGITIFY_INFERENCE_PROCESSES"] = "2"
    env["DIGITIFY_TRACING"] = "true"
    env["BENTOML_CONFIG_OPTIONS"] = "services.digitify.tracing.sample_rate=1.0"  # recorded, though not exported
    process = ServiceProcess(env, cwd=work).start()
    try:
        yield process
    finally:
        process.stop()


def inference_children(server: ServiceProcess) -> list[psutil.Process]:
    """The live inference processes the service's worker started (not one killed and not yet reaped)."""
    children = []
    for child in psutil.Process(server.process.pid).children(recursive=True):
        try:
            if "multiprocessing.spawn" in " ".join(child.cmdline()):
                children.append(child)
        except psutil.Error:  # gone, or a zombie
            continue
    return children


def test_both_processes_answer_as_the_model_alone(two_processes, model_env):
    texts = ["7", "42", "3.14", "2026", "0.5", "918273", "60.25", "11"] * 4
    images = [png_bytes(draw_number(text, height=40 + 3 * (i % 5))) for i, text in enumerate(texts)]
    recognizer = Recognizer.from_file(Path(model_env["BENTOML_HOME"]).parent / "model.pt")
    token = register(two_processes.url, "two-processes", "password-two-processes")
    assert len(inference_children(two_processes)) == 2

    def predict(image: bytes) -> dict:
        with httpx.Client(base_url=two_processes.url, headers={"Authorization": f"Bearer {token}"}) as client:
            response = client.post("/predict", files={"image": ("n.png", image, "image/png")})
        assert response.status_code == 200, response.text
        return response.json()

    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(predict, images))
    for answer, alone in zip(answers, recognizer.predict(images), strict=True):
        assert answer["text"] == alone.text
        assert answer["confidence"] == pytest.approx(alone.confidence, abs=1e-4)


def test_a_killed_inference_process_costs_at_most_a_503_and_never_a_row(two_processes):
    username = "killed-child"
    token = register(two_processes.url, username, "password-killed-child")
    image = png_bytes(draw_number("58"))
    statuses: list[int] = []
    retry_after: list[str | None] = []
    with httpx.Client(base_url=two_processes.url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
        for victim in inference_children(two_processes):
            victim.kill()
            for _ in range(6):
                answer = client.post("/predict", files={"image": ("n.png", image, "image/png")})
                statuses.append(answer.status_code)
                if answer.status_code == 503:
                    retry_after.append(answer.headers.get("retry-after"))
        deadline = time.monotonic() + 60
        while len(inference_children(two_processes)) < 2 and time.monotonic() < deadline:
            time.sleep(0.5)
        final = client.post("/predict", files={"image": ("n.png", image, "image/png")})
    statuses.append(final.status_code)
    assert set(statuses) <= {200, 503} and final.status_code == 200
    assert all(seconds and int(seconds) >= 1 for seconds in retry_after)  # a 503 says when to try again
    assert len(inference_children(two_processes)) == 2
    admin_headers = {"Authorization": f"Bearer {login(two_processes.url, *ADMIN)}"}
    with httpx.Client(base_url=two_processes.url, headers=admin_headers) as admin:
        deadline = time.monotonic() + 30
        while (total := admin.get("/admin/logs", params={"user": username}).json()["total"]) < len(statuses):
            assert time.monotonic() < deadline, f"{total} rows for {len(statuses)} requests"
            time.sleep(0.3)
        rows = admin.get("/admin/logs", params={"user": username, "page_size": 100}).json()
    assert rows["total"] == len(statuses)
    refused = [row for row in rows["items"] if row["outcome"] != "ok"]
    assert len(refused) == statuses.count(503)
    assert all("could not read this request right now" in row["error"] for row in refused)


def test_requests_are_traced_only_when_tracing_is_asked_for(two_processes, server, number_png):
    """BentoML names a traced request's span in ``X-BentoML-Request-ID``; untraced, no span is built."""
    token = login(two_processes.url, *ADMIN)
    body = {"image": base64.b64encode(number_png).decode()}
    for url, bearer, traced in ((two_processes.url, token, True), (server.url, server.admin_token, False)):
        response = httpx.post(
            f"{url}/predict_base64", json=body, headers={"Authorization": f"Bearer {bearer}"}, timeout=30
        )
        assert response.status_code == 200, response.text  # a BentoML API route, which BentoML answers
        assert ("x-bentoml-request-id" in response.headers) is traced, (url, dict(response.headers))

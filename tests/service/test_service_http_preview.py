"""``POST /preview`` over real HTTP: the normalized image the model reads, behind auth, never logged."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

from models.preprocess import normalize
from tests.service.harness import png_bytes

DATA_URL_PREFIX = "data:image/png;base64,"


def test_preview_is_the_normalized_image_as_a_grey_png(server, number_png):
    _, token = server.new_user()
    with server.client(token) as client:
        response = client.post("/preview", files={"image": ("n.png", number_png, "image/png")})
    assert response.status_code == 200, response.text
    answer = response.json()
    assert set(answer) == {"image", "width", "height"}
    assert answer["image"].startswith(DATA_URL_PREFIX)
    picture = Image.open(io.BytesIO(base64.b64decode(answer["image"].removeprefix(DATA_URL_PREFIX))))
    assert picture.format == "PNG" and picture.mode == "L"
    assert picture.size == (answer["width"], answer["height"]) and answer["height"] == 32
    expected = np.rint(normalize(number_png) * 255).astype(np.uint8)
    assert np.array_equal(np.asarray(picture), expected)
    pixels = np.asarray(picture)
    assert pixels.max() == 255 and pixels[0].max() == 0 and pixels[:, 0].max() == 0  # white ink on black


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        (b"%PDF-1.4 definitely not an image", 400, "not a readable image"),
        (png_bytes(Image.new("L", (300, 100), 255)), 422, "no number found"),
        (b"", 400, "empty"),
    ],
    ids=["not an image", "blank canvas", "empty file"],
)
def test_bad_image_gets_the_same_error_as_predict_and_is_not_logged(server, number_png, data, status, message):
    username, token = server.new_user()
    with server.client(token) as client:
        preview = client.post("/preview", files={"image": ("x.png", data, "image/png")})
        predict = client.post("/predict", files={"image": ("x.png", data, "image/png")})
        wrong_field = client.post("/preview", files={"picture": ("n.png", number_png, "image/png")})
    assert preview.status_code == predict.status_code == status, preview.text
    assert preview.json() == {"error": predict.json()["error"]}
    assert message in preview.json()["error"]
    assert wrong_field.status_code == 400 and "'image'" in wrong_field.json()["error"]
    assert "log_id" not in wrong_field.json()
    logged = server.wait_for_logs(username, 1)
    assert logged["total"] == 1 and [row["endpoint"] for row in logged["items"]] == ["predict"]


def test_preview_needs_a_token(server, number_png):
    with server.client() as client:
        missing = client.post("/preview", files={"image": ("n.png", number_png, "image/png")})
    with server.client("not-a-token") as client:
        forged = client.post("/preview", files={"image": ("n.png", number_png, "image/png")})
    assert missing.status_code == forged.status_code == 401
    assert "error" in missing.json() and "image" not in missing.json()


def test_openapi_documents_preview(server):
    with server.client() as client:
        assert "/preview" in client.get("/docs.json").json()["paths"]


def web_worker(server):
    """The BentoML worker process that serves HTTP (its inference processes are its children)."""
    import psutil

    root = psutil.Process(server.process.process.pid)
    workers = [p for p in root.children(recursive=True) if "_bentoml_impl.worker.service" in " ".join(p.cmdline())]
    assert len(workers) == 1, workers
    return workers[0]


def test_previews_are_decoded_by_the_inference_processes_not_the_web_worker(server):
    """Four parallel previews of a 12-megapixel photo once took 2.45 GB in the web worker's own threads."""
    from concurrent.futures import ThreadPoolExecutor

    from tests.drawing import draw_number

    photo = Image.new("L", (4000, 3000), 255)
    photo.paste(draw_number("4071").resize((2400, 900)), (800, 1000))
    data = png_bytes(photo)
    _, token = server.new_user()
    worker = web_worker(server)
    before = worker.memory_info().rss

    def preview(_: int) -> int:
        with server.client(token) as client:
            return client.post("/preview", files={"image": ("photo.png", data, "image/png")}).status_code

    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(preview, range(4))) == [200] * 4
    assert worker.memory_info().rss - before < 60 * 2**20  # a 12-megapixel decode alone is 36 MB per image

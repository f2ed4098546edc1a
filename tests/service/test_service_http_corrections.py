"""Corrections over real HTTP, on both databases: who may correct, the admin queue and review, kept images,
the corrected share, and the export of accepted corrections as a labelled folder (``pipelines.corrections``)."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from models.charset import CHARSET
from tests.drawing import draw_number
from tests.service.harness import REPO, png_bytes


def unique_png(seed: int) -> tuple[str, bytes]:
    """A drawn number no other test uploads (so its kept image and hash are this test's own)."""
    text = str(random.Random(seed).randrange(10_000, 99_999))
    return text, png_bytes(draw_number(text))


def predict(server, token: str, data: bytes) -> dict:
    """Read one image as the owner of ``token``; return the prediction."""
    with server.client(token) as client:
        response = client.post("/predict", files={"image": ("number.png", data, "image/png")})
    assert response.status_code == 200, response.text
    return response.json()


def correct(server, token: str, log_id: str, text: str):
    """Send a correction; return the response."""
    with server.client(token) as client:
        return client.post("/corrections", json={"log_id": log_id, "text": text})


def test_owner_corrects_and_the_admin_sees_it_with_its_image(server):
    username, token = server.new_user()
    _, data = unique_png(1)
    prediction = predict(server, token, data)

    first = correct(server, token, prediction["log_id"], " 123.5 ")
    assert first.status_code == 201, first.text
    item = first.json()
    assert item["corrected_text"] == "123.5"
    assert item["predicted_text"] == prediction["text"]
    assert item["status"] == "pending"
    assert item["username"] == item["corrected_by"] == username
    assert item["image_url"] == f"/admin/images/{hashlib.sha256(data).hexdigest()}"

    again = correct(server, token, prediction["log_id"], "124.5")
    assert again.status_code == 200, again.text
    assert again.json()["corrected_text"] == "124.5"

    with server.client(server.admin_token) as admin:
        queue = admin.get("/admin/corrections", params={"user": username}).json()
        assert queue["total"] == 1
        [listed] = queue["items"]
        assert listed["log_id"] == prediction["log_id"]
        assert (listed["predicted_text"], listed["corrected_text"]) == (prediction["text"], "124.5")
        assert listed["model_version"] == prediction["model_version"]
        image = admin.get(listed["image_url"])
        assert image.status_code == 200
        assert image.headers["content-type"] == "image/png"
        assert image.content == data
        logs = admin.get("/admin/logs", params={"user": username}).json()
        [row] = logs["items"]
        assert (row["corrected_text"], row["correction_status"]) == ("124.5", "pending")
        assert row["image_url"] == listed["image_url"]


def test_only_the_owner_or_an_admin_may_correct(server):
    _, owner = server.new_user()
    _, stranger = server.new_user()
    _, data = unique_png(2)
    prediction = predict(server, owner, data)

    refused = correct(server, stranger, prediction["log_id"], "7")
    assert refused.status_code == 403
    assert "only the person who made this prediction" in refused.json()["error"]
    assert correct(server, server.admin_token, prediction["log_id"], "7").status_code == 201
    with server.client() as anonymous:
        assert anonymous.post("/corrections", json={"log_id": prediction["log_id"], "text": "7"}).status_code == 401


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("4a", f"only the characters {CHARSET} (^ before a raised exponent, as in 6.02×10^23), not 'a'"),
        ("1;5 x", "not ' ' ';' 'x'"),
        ("   ", "empty"),
        ("9" * 129, "at most 128"),
    ],
)
def test_a_label_outside_the_charset_is_refused_with_a_message(server, text, message):
    _, token = server.new_user()
    _, data = unique_png(3)
    prediction = predict(server, token, data)
    response = correct(server, token, prediction["log_id"], text)
    assert response.status_code == 422
    assert message in response.json()["error"]


def test_signs_separators_and_a_raised_exponent_are_readable_corrections(server):
    """Every character of the charset may be typed: signs, a decimal comma, an exponent, a raised power of ten."""
    _, token = server.new_user()
    _, data = unique_png(4)
    prediction = predict(server, token, data)
    for number in ("-4.5", "6.02×10^23", "+1,250", "1.5e-3"):
        response = correct(server, token, prediction["log_id"], number)
        assert response.status_code in (200, 201), response.text
        assert response.json()["corrected_text"] == number


def test_unknown_and_refused_predictions_cannot_be_corrected(server, blank_png):
    _, token = server.new_user()
    assert correct(server, token, "00000000-0000-0000-0000-000000000000", "1").status_code == 404
    with server.client(token) as client:
        rejected = client.post("/predict", files={"image": ("blank.png", blank_png, "image/png")})
    assert rejected.status_code == 422
    response = correct(server, token, rejected.json()["log_id"], "1")
    assert response.status_code == 409
    assert "nothing to correct" in response.json()["error"]


def test_admin_accepts_and_rejects_and_the_share_counts_the_live_ones(server):
    username, token = server.new_user()
    predictions = [predict(server, token, unique_png(10 + i)[1]) for i in range(4)]
    for prediction, text in zip(predictions[:3], ("1", "2", "3"), strict=True):
        assert correct(server, token, prediction["log_id"], text).status_code == 201

    with server.client(token) as user:
        assert user.get("/admin/corrections").status_code == 403
        assert user.post(f"/admin/corrections/{predictions[0]['log_id']}/accept", json={"text": "1"}).status_code == 403
    with server.client(server.admin_token) as admin:
        accepted = admin.post(f"/admin/corrections/{predictions[0]['log_id']}/accept", json={"text": "1"})
        assert accepted.status_code == 200, accepted.text
        assert (accepted.json()["status"], accepted.json()["reviewed_by"]) == ("accepted", "admin")
        rejected = admin.post(f"/admin/corrections/{predictions[1]['log_id']}/reject", json={"text": "2"})
        assert rejected.json()["status"] == "rejected"
        unknown = admin.post(f"/admin/corrections/{predictions[3]['log_id']}/accept", json={"text": "4"})
        assert unknown.status_code == 404
        blind = admin.post(f"/admin/corrections/{predictions[2]['log_id']}/accept")
        assert blind.status_code == 422  # a decision names the text it approves

        def listed(**params) -> list[str]:
            page = admin.get("/admin/corrections", params={"user": username, **params})
            assert page.status_code == 200, page.text
            return [item["corrected_text"] for item in page.json()["items"]]

        assert listed() == ["3", "2", "1"]
        assert listed(order="asc") == ["1", "2", "3"]
        assert listed(status="accepted") == ["1"]
        assert listed(status="pending") == ["3"]
        assert listed(page_size=2, page=2) == ["1"]
        assert admin.get("/admin/corrections", params={"status": "done"}).status_code == 422

        share = admin.get("/admin/stats", params={"user": username}).json()["corrections"]
    assert (share["total"], share["pending"], share["accepted"], share["rejected"]) == (3, 1, 1, 1)
    assert (share["predictions"], share["corrected"], share["share"]) == (4, 2, 0.5)
    [version] = share["by_model_version"]
    assert version == {"model_version": predictions[0]["model_version"], "predictions": 4, "corrected": 2, "share": 0.5}
    assert sum(day["predictions"] for day in share["by_day"]) == 4


def test_images_are_named_by_their_hash_only(server):
    with server.client(server.admin_token) as admin:
        assert admin.get("/admin/images/" + "0" * 64).status_code == 404
        assert admin.get("/admin/images/..%2Fspool.db").status_code in (404, 422)
        assert admin.get("/admin/images/" + "g" * 64).status_code == 422


def export(database_url: str, out: Path) -> dict:
    """Run the export command against the server's database; return its JSON summary."""
    env = {**os.environ, "DATABASE_URL": database_url}
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.corrections", "--out", str(out)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def read_folder(root: Path) -> dict[str, str]:
    """Every exported label by file name, across both splits; the images must be readable."""
    labels = {}
    for split in ("train", "test"):
        if not (root / split / "labels.csv").is_file():  # a split no image fell in
            continue
        with (root / split / "labels.csv").open(newline="") as handle:
            for row in csv.DictReader(handle):
                with Image.open(root / split / row["filename"]) as image:
                    image.verify()
                labels[f"{split}/{row['filename']}"] = row["label"]
    return labels


def test_accepted_corrections_export_as_a_labelled_folder_twice_identical(server, tmp_path):
    _, token = server.new_user()
    texts = {}
    for i in range(5):
        _, data = unique_png(100 + i)
        prediction = predict(server, token, data)
        label = f"{i}.{i}"
        assert correct(server, token, prediction["log_id"], label).status_code == 201
        texts[hashlib.sha256(data).hexdigest()] = (prediction["log_id"], label)
    with server.client(server.admin_token) as admin:
        for number, (log_id, label) in enumerate(sorted(texts.values())):
            verdict = "reject" if number == 0 else "accept"
            assert admin.post(f"/admin/corrections/{log_id}/{verdict}", json={"text": label}).status_code == 200
        accepted = admin.get("/admin/corrections", params={"status": "accepted", "page_size": 500}).json()["total"]

    first, second = tmp_path / "first", tmp_path / "second"
    summary = export(server.database_url, first)
    assert export(server.database_url, second) == {**summary, "output": str(second)}
    assert (summary["accepted"], summary["train"] + summary["test"], summary["skipped"]) == (accepted, accepted, 0)
    labels = read_folder(first)
    assert len(labels) == accepted
    mine = {name: label for name, label in labels.items() if Path(name).stem in texts}
    rejected_hash = next(sha for sha, (log_id, _) in texts.items() if log_id == min(v[0] for v in texts.values()))
    assert {Path(name).stem for name in mine} == set(texts) - {rejected_hash}
    assert all(label == texts[Path(name).stem][1] for name, label in mine.items())
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    assert all((first / name).read_bytes() == (second / name).read_bytes() for name in files)


def test_a_correction_changed_after_the_admin_saw_it_is_not_decided(server):
    _, token = server.new_user()
    prediction = predict(server, token, unique_png(40)[1])
    log_id = prediction["log_id"]
    assert correct(server, token, log_id, "12").status_code == 201
    with server.client(server.admin_token) as admin:
        queue = admin.get("/admin/corrections").json()["items"]
        seen = [item["corrected_text"] for item in queue if item["log_id"] == log_id]
        assert seen == ["12"]
        assert correct(server, token, log_id, "99").status_code == 200  # the user changes it meanwhile
        for verdict in ("accept", "reject"):
            stale = admin.post(f"/admin/corrections/{log_id}/{verdict}", json={"text": "12"})
            assert stale.status_code == 409, stale.text
            assert "'99'" in stale.json()["error"]
        listed = admin.get("/admin/corrections", params={"status": "pending"}).json()["items"]
        assert [item["corrected_text"] for item in listed if item["log_id"] == log_id] == ["99"]
        current = admin.post(f"/admin/corrections/{log_id}/accept", json={"text": "99"})
        assert current.status_code == 200 and current.json()["status"] == "accepted"

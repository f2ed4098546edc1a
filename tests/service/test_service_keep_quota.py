"""Kept images are bounded: per user per day over real HTTP, and by the store's free space."""

from __future__ import annotations

import hashlib
import io
import os

from PIL import PngImagePlugin

import service.corrections.keep_quota as keep_quota
from service.corrections.keep_quota import KeepQuota
from tests.drawing import draw_number


def padded_png(seed: int, padding: int) -> bytes:
    """A drawn number as a valid PNG carrying ``padding`` bytes of text metadata (inside the image, not after it)."""
    info = PngImagePlugin.PngInfo()
    info.add_text("padding", os.urandom(padding // 2).hex())
    buffer = io.BytesIO()
    draw_number(str(seed)).save(buffer, format="PNG", pnginfo=info)
    return buffer.getvalue()


def test_one_user_cannot_fill_the_store(server):
    """40 uploads of 0.9 MB by one user: every one answered, no more than the day's quota kept."""
    _, token = server.new_user()
    uploads = [padded_png(1000 + i, 900_000) for i in range(40)]
    with server.client(token) as client:
        for data in uploads:
            answer = client.post("/predict", files={"image": ("n.png", data, "image/png")})
            assert answer.status_code == 200, answer.text
    stored = {path.name: path.stat().st_size for path in (server.work / "images").rglob("*") if path.is_file()}
    kept = sum(stored.get(hashlib.sha256(data).hexdigest(), 0) for data in uploads)
    assert 15 * 2**20 <= kept <= 20 * 2**20 + 2**20, kept  # the quota (20 MB), give or take the last image
    _, other = server.new_user()  # another user's images are still kept
    data = padded_png(5000, 1000)
    with server.client(other) as client:
        assert client.post("/predict", files={"image": ("n.png", data, "image/png")}).status_code == 200
    assert (server.work / "images" / hashlib.sha256(data).hexdigest()[:2] / hashlib.sha256(data).hexdigest()).exists()


def test_the_quota_starts_afresh_each_day_and_a_nearly_full_disk_keeps_nothing(tmp_path, monkeypatch):
    quota = KeepQuota(bytes_per_user_day=100, local_root=str(tmp_path))
    assert quota.allows("ada")
    quota.record("ada", 100)
    assert not quota.allows("ada") and quota.allows("bob")
    monkeypatch.setattr(keep_quota, "_today", lambda: "2999-01-01")
    assert quota.allows("ada")

    class Usage:  # a full disk cannot be made here without root: its report is stood in for
        free = keep_quota.MIN_FREE_BYTES - 1

    monkeypatch.setattr(keep_quota.shutil, "disk_usage", lambda path: Usage)
    quota._room_checked = -keep_quota.DISK_CHECK_SECONDS
    assert not quota.allows("bob")

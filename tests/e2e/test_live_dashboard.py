"""The live dashboard in Chromium: a prediction made through the API shows in its figures within 2 s, no reload."""

from __future__ import annotations

import time

import httpx
from playwright.sync_api import expect

from tests.drawing import draw_number
from tests.e2e.support import WebPage, log_in
from tests.service.harness import login, png_bytes

BAR_MS = 2000


def test_a_prediction_through_the_api_shows_on_the_open_dashboard_within_2_s(web: WebPage) -> None:
    page = web.page
    page.goto(web.service.url + "/")
    log_in(page, *web.service.admin)
    page.get_by_test_id("nav-admin").click()
    expect(page.get_by_test_id("live-state")).to_have_attribute("data-state", "live")
    predictions = page.get_by_test_id("live-predictions")
    before = int(predictions.inner_text())
    page.evaluate("window.digitifyNotReloaded = true")

    token = login(web.service.url, *web.service.admin)
    answer = httpx.post(
        web.service.url + "/predict",
        headers={"Authorization": f"Bearer {token}"},
        files={"image": ("n.png", png_bytes(draw_number("42")))},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    answered = time.monotonic()
    expect(predictions).to_have_text(str(before + 1), timeout=BAR_MS)
    print(f"the open dashboard showed the prediction {time.monotonic() - answered:.2f} s after its answer")

    assert page.evaluate("window.digitifyNotReloaded") is True  # the same page: it moved by itself
    expect(page.get_by_test_id("live-per-minute")).not_to_have_text("0")
    expect(page.get_by_test_id("live-latency")).not_to_contain_text("– / – / –")
    expect(page.get_by_test_id("live-tasks-queued")).to_have_text("0")
    assert web.console.errors == []

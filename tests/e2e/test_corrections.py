"""The corrections loop in a real browser against the real service (which keeps the images).

A person reads a number, says what it should have been, and an admin reviews it on the
dashboard with the image that was sent; a phone user boxes the number on a cluttered photo
with a finger and only that box is sent.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import time
from urllib.parse import urlparse

import httpx
from PIL import Image, ImageChops, ImageStat
from playwright.sync_api import Page, Route, expect

from models.number_value import parse_value
from tests.e2e.handwriting import FORTY_TWO
from tests.e2e.photos import Photo, photo_with_number
from tests.e2e.support import (
    WebPage,
    draw_with_mouse,
    expect_prediction,
    log_in,
    register_in_page,
    touch_stroke,
    unique,
)
from tests.service.harness import login, register

PASSWORD = "a-good-password"
# Where a person puts the box: the number with this much room around it (photo pixels).
ROOM = 30
# A box drawn with a finger on a phone-sized photo lands within a few photo pixels of the aim.
AIM_TOLERANCE = 8


def admin_client(web: WebPage) -> httpx.Client:
    """An HTTP client logged in as the service's admin."""
    token = login(web.service.url, *web.service.admin)
    return httpx.Client(base_url=web.service.url, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def correction_of(client: httpx.Client, log_id: str) -> dict:
    """The admin API's correction item for ``log_id``."""
    answer = client.get("/admin/corrections", params={"page_size": 500})
    answer.raise_for_status()
    items = [item for item in answer.json()["items"] if item["log_id"] == log_id]
    assert len(items) == 1, f"no correction of {log_id}"
    return items[0]


def sent_image(client: httpx.Client, username: str, log_id: str) -> bytes:
    """The image the page sent for prediction ``log_id``, as the service kept it (byte for byte).

    (The browser does not expose a multipart body built from a Blob, so the service's copy is the witness.)
    """
    deadline = time.monotonic() + 20
    while True:
        answer = client.get("/admin/logs", params={"user": username, "page_size": 500})
        answer.raise_for_status()
        rows = [row for row in answer.json()["items"] if row["id"] == log_id]
        if rows or time.monotonic() > deadline:
            break
        time.sleep(0.3)  # the log row may still wait in the service's spool
    assert rows, f"no log row {log_id}"
    assert rows[0]["image_url"], "the service did not keep the image"
    stored = client.get(rows[0]["image_url"])
    assert stored.status_code == 200
    assert hashlib.sha256(stored.content).hexdigest() == rows[0]["image_sha256"]
    return stored.content


def test_correction_is_saved_then_accepted_by_the_admin(web: WebPage) -> None:
    page = web.page
    page.goto(web.service.url + "/")
    username = unique("corrector")
    register_in_page(page, username, PASSWORD)
    sent_corrections: list[str] = []
    page.on("request", lambda request: sent_corrections.append(request.url) if "/corrections" in request.url else None)

    draw_with_mouse(page, FORTY_TWO)
    page.get_by_test_id("predict").click()
    expect_prediction(web, "42")
    log_id = page.get_by_test_id("log-id").get_attribute("data-log-id")
    assert log_id

    form = page.get_by_role("form", name="Correct the reading")
    field = form.get_by_label("Wrong? Type the right number")
    expect(field).to_have_attribute("inputmode", "decimal")
    field.fill("4a2")
    expect(form.get_by_role("alert")).to_contain_text("Use only 0–9 . , - + e × ^, not “a”")
    expect(field).to_have_attribute("aria-invalid", "true")
    form.get_by_role("button", name="Send").click()
    expect(form.get_by_role("alert")).to_contain_text("Use only 0–9")
    assert sent_corrections == []

    field.fill("4,7 ")  # a comma is a character of the charset (written as it is); spaces go
    expect(field).to_have_value("4,7")
    expect(field).not_to_have_attribute("aria-invalid", "true")
    field.fill("47")
    expect(field).not_to_have_attribute("aria-invalid", "true")
    with page.expect_response("**/corrections") as saved:
        form.get_by_role("button", name="Send").click()
    assert saved.value.status == 201
    expect(page.get_by_test_id("correction-saved")).to_have_text("Thanks — saved for review.")

    with admin_client(web) as admin:
        item = correction_of(admin, log_id)
        assert (item["predicted_text"], item["corrected_text"], item["status"]) == ("42", "47", "pending")
        assert item["corrected_by"] == username
        drawing = sent_image(admin, username, log_id)
        assert item["image_sha256"] == hashlib.sha256(drawing).hexdigest()
        assert admin.get(item["image_url"]).content == drawing

    page.get_by_test_id("logout").click()
    log_in(page, *web.service.admin)
    page.get_by_test_id("nav-admin").click()
    row = page.locator(f'[data-testid="correction-row"][data-log-id="{log_id}"]')
    expect(row).to_be_visible()
    expect(row.get_by_test_id("correction-predicted")).to_contain_text("42")
    expect(row.get_by_test_id("correction-text")).to_have_text("47")
    expect(row).to_contain_text(username)
    thumbnail = row.get_by_role("img")
    expect(thumbnail).to_have_attribute("src", re.compile(r"^blob:"))
    width, height = Image.open(io.BytesIO(drawing)).size
    assert thumbnail.evaluate("img => img.decode().then(() => [img.naturalWidth, img.naturalHeight])") == [
        width,
        height,
    ]
    status = row.get_by_test_id("correction-status")
    expect(status).to_have_text("pending")

    with page.expect_response(f"**/admin/corrections/{log_id}/accept") as accepted:
        row.get_by_role("button", name="Accept").click()
    assert accepted.value.status == 200
    expect(status).to_have_text("accepted")
    expect(row.get_by_role("button", name="Accept")).to_be_disabled()
    with admin_client(web) as admin:
        item = correction_of(admin, log_id)
        assert (item["status"], item["reviewed_by"]) == ("accepted", web.service.admin[0])

    expect(page.get_by_test_id("chart-corrections")).to_be_visible()
    expect(page.get_by_test_id("corrections-summary")).to_contain_text(re.compile(r"\b[1-9]\d* accepted"))

    log_row = page.locator(f'[data-testid="log-row"][data-log-id="{log_id}"]')
    expect(log_row.get_by_test_id("log-correction")).to_contain_text("47")
    log_row.get_by_role("button", name="Show").click()
    expect(log_row.get_by_test_id("stored-image")).to_have_attribute("data-state", "shown")

    row.get_by_role("button", name="Reject").click()
    expect(status).to_have_text("rejected")
    expect(row.get_by_role("button", name="Accept")).to_be_enabled()
    with admin_client(web) as admin:
        assert correction_of(admin, log_id)["status"] == "rejected"
    assert web.console.errors == []


def test_the_services_refusal_of_a_correction_is_shown(web: WebPage) -> None:
    """The page checks the characters itself; what the service refuses beyond that reaches the person as it says it.

    The request is altered on its way (a label the page would not send) so the real service refuses it.
    """
    page = web.page
    page.goto(web.service.url + "/")
    username = unique("refused")
    token = register(web.service.url, username, PASSWORD)
    log_in(page, username, PASSWORD)
    draw_with_mouse(page, FORTY_TWO)
    page.get_by_test_id("predict").click()
    expect_prediction(web, "42")
    log_id = page.get_by_test_id("log-id").get_attribute("data-log-id")

    refused = httpx.post(
        f"{web.service.url}/corrections",
        json={"log_id": log_id, "text": "4a2"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert refused.status_code == 422
    message = refused.json()["error"]
    assert message

    altered = json.dumps({"log_id": log_id, "text": "4a2"})
    page.route("**/corrections", lambda route: route.continue_(post_data=altered))
    form = page.get_by_role("form", name="Correct the reading")
    form.get_by_label("Wrong? Type the right number").fill("47")
    form.get_by_role("button", name="Send").click()
    expect(page.get_by_test_id("correction-error")).to_have_text(message[0].upper() + message[1:])
    expect(page.get_by_test_id("correction-saved")).to_have_count(0)
    assert web.console.unexpected(422) == []


EXPONENT = "6.02×10^23"


def test_a_raised_exponent_is_shown_raised_and_signed_corrections_are_saved(web: WebPage) -> None:
    """A reading "6.02×10^23" shows as 6.02×10<sup>23</sup>; the form takes "-4.5" and a raised exponent.

    The test model reads no exponent, so the service's answer is altered on its way to the page (its
    log id stays real, so the corrections are saved for real); the admin's tables show them raised too.
    """
    page = web.page
    page.goto(web.service.url + "/")
    username = unique("exponent")
    register_in_page(page, username, PASSWORD)

    def read_an_exponent(route: Route) -> None:
        answer = route.fetch()
        value = parse_value(EXPONENT, "auto")
        reading = {
            **answer.json(),
            "text": EXPONENT,
            "char_confidences": [0.95] * len(EXPONENT),
            "value": value.value,
            "value_error": value.error,
            "decimal_separator": value.decimal_separator,
        }
        route.fulfill(response=answer, json=reading)

    page.route(lambda url: urlparse(url).path.endswith("/predict"), read_an_exponent)
    draw_with_mouse(page, FORTY_TWO)
    page.get_by_test_id("predict").click()
    prediction = page.get_by_test_id("prediction")
    raised = prediction.locator("sup")
    expect(raised).to_have_text("23")
    expect(prediction).to_have_text(EXPONENT)  # the "^" stays, visually hidden: copying gets the reading
    line, power = prediction.bounding_box(), raised.bounding_box()
    assert line and power
    assert power["y"] + power["height"] / 2 < line["y"] + line["height"] / 2  # set above the line's middle
    assert power["height"] < line["height"]
    log_id = page.get_by_test_id("log-id").get_attribute("data-log-id")

    form = page.get_by_role("form", name="Correct the reading")
    field = form.get_by_label("Wrong? Type the right number")
    expect(form.get_by_test_id("correction-hint")).to_have_text("Type ^ before a raised exponent: 6.02×10^23")
    field.fill("4a")
    expect(form.get_by_role("alert")).to_contain_text("Use only 0–9 . , - + e × ^, not “a”")
    field.fill("-4.5")
    expect(field).not_to_have_attribute("aria-invalid", "true")
    expect(form.get_by_role("alert")).to_have_count(0)
    with page.expect_response("**/corrections") as saved:
        form.get_by_role("button", name="Send").click()
    assert saved.value.status == 201
    expect(page.get_by_test_id("correction-saved")).to_be_visible()

    field.fill("1.6X")  # an "x" is the times sign
    expect(field).to_have_value("1.6×")
    field.fill("1.6")
    form.get_by_role("button", name="Insert ×10^").click()
    form.get_by_role("button", name="Insert a minus sign").click()
    field.press_sequentially("19")
    expect(field).to_have_value("1.6×10^-19")
    expect(form.get_by_test_id("correction-preview").locator("sup")).to_have_text("-19")
    with page.expect_response("**/corrections") as saved:
        form.get_by_role("button", name="Send").click()
    assert saved.value.status == 200  # it replaces the first correction

    page.get_by_test_id("logout").click()
    log_in(page, *web.service.admin)
    page.get_by_test_id("nav-admin").click()
    row = page.locator(f'[data-testid="correction-row"][data-log-id="{log_id}"]')
    expect(row.get_by_test_id("correction-text")).to_have_text("1.6×10^-19")
    expect(row.get_by_test_id("correction-text").locator("sup")).to_have_text("-19")
    log_row = page.locator(f'[data-testid="log-row"][data-log-id="{log_id}"]')
    expect(log_row.get_by_test_id("log-correction").locator("sup")).to_have_text("-19")
    assert web.console.errors == []


def stage_point(page: Page, photo: Photo, x: float, y: float) -> tuple[float, float]:
    """Where photo pixel (x, y) is on the screen."""
    box = page.get_by_test_id("picked-image").bounding_box()
    assert box is not None
    width, height = photo.image.size
    return box["x"] + x * box["width"] / width, box["y"] + y * box["height"] / height


def touch_drag(page: Page, start: tuple[float, float], end: tuple[float, float], steps: int = 12) -> None:
    """Put one finger down at ``start``, slide it to ``end``, rest a moment, lift it (Chromium's touch input)."""
    touch_stroke(
        page,
        [
            {"x": start[0] + (end[0] - start[0]) * i / steps, "y": start[1] + (end[1] - start[1]) * i / steps}
            for i in range(steps + 1)
        ],
    )


def crop_shown(page: Page) -> tuple[int, int, int, int]:
    """The box the page will cut out, in photo pixels: (left, top, width, height)."""
    left, top, width, height = (int(v) for v in page.get_by_test_id("crop-size").get_attribute("data-crop").split(","))
    return left, top, width, height


def expect_box_around_number(crop: tuple[int, int, int, int], photo: Photo) -> None:
    """The box holds the whole number with about ROOM pixels around it, not much more."""
    left, top, width, height = crop
    n_left, n_top, n_right, n_bottom = photo.number_box
    aim = (n_left - ROOM, n_top - ROOM, n_right + ROOM, n_bottom + ROOM)
    got = (left, top, left + width, top + height)
    assert all(abs(a - b) <= AIM_TOLERANCE for a, b in zip(got, aim, strict=True)), (got, aim)


def expect_sent_the_box(web: WebPage, username: str, photo: Photo, crop: tuple[int, int, int, int]) -> None:
    """The image sent is the box's full-resolution pixels of the photo (as a JPEG, so nearly equal)."""
    log_id = web.page.get_by_test_id("log-id").get_attribute("data-log-id")
    with admin_client(web) as admin:
        sent = Image.open(io.BytesIO(sent_image(admin, username, log_id)))
    left, top, width, height = crop
    assert sent.format == "JPEG"
    assert sent.size == (width, height)
    original = photo.image.crop((left, top, left + width, top + height))
    difference = ImageStat.Stat(ImageChops.difference(sent.convert("RGB"), original)).mean
    assert max(difference) < 4, difference


def test_phone_photo_boxed_with_a_finger(phone: WebPage) -> None:
    page = phone.page
    page.goto(phone.service.url + "/")
    username = unique("photographer")
    register_in_page(page, username, PASSWORD)
    expect(page.get_by_role("button", name="Take a photo")).to_be_visible()
    photo = photo_with_number(FORTY_TWO, at=(620, 420))
    page.get_by_test_id("camera-input").set_input_files(
        files=[{"name": "IMG_0042.jpg", "mimeType": "image/jpeg", "buffer": photo.jpeg}]
    )
    stage = page.get_by_test_id("crop-stage")
    expect(stage).to_have_css("touch-action", "none")
    expect(page.get_by_test_id("crop-box")).to_be_visible()
    expect(page.get_by_test_id("prediction")).to_have_count(0)
    stage.scroll_into_view_if_needed()
    scrolled = page.evaluate("window.scrollY")

    left, top, width, height = crop_shown(page)
    n_left, n_top, n_right, n_bottom = photo.number_box
    aim_width, aim_height = n_right - n_left + 2 * ROOM, n_bottom - n_top + 2 * ROOM
    # Resize by the bottom-right corner to the number's size, then slide the box onto the number.
    touch_drag(
        page,
        stage_point(page, photo, left + width, top + height),
        stage_point(page, photo, left + aim_width, top + aim_height),
    )
    touch_drag(
        page,
        stage_point(page, photo, left + aim_width / 2, top + aim_height / 2),
        stage_point(page, photo, (n_left + n_right) / 2, (n_top + n_bottom) / 2),
    )
    crop = crop_shown(page)
    expect_box_around_number(crop, photo)
    assert page.evaluate("window.scrollY") == scrolled
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    page.get_by_role("button", name="Read this box").tap()
    expect_prediction(phone, "42")
    expect_sent_the_box(phone, username, photo, crop)
    expect(page.get_by_role("form", name="Correct the reading")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert phone.console.errors == []


def test_desktop_upload_then_draw_a_new_box_with_the_mouse(web: WebPage) -> None:
    page = web.page
    page.goto(web.service.url + "/")
    username = unique("boxer")
    register_in_page(page, username, PASSWORD)
    photo = photo_with_number(FORTY_TWO, at=(140, 60))
    with page.expect_response("**/predict") as whole:
        page.get_by_test_id("upload-input").set_input_files(
            files=[{"name": "page.jpg", "mimeType": "image/jpeg", "buffer": photo.jpeg}]
        )
    assert whole.value.status == 200
    expect(page.get_by_test_id("prediction")).to_be_visible()
    expect(page.get_by_test_id("crop-box")).to_be_visible()

    left, top, width, height = crop_shown(page)
    box = page.get_by_role("group", name="Box around the number")
    box.focus()
    box.press("ArrowRight")
    box.press("Shift+ArrowDown")
    assert crop_shown(page) == (left + 24, top, width, height + 18)  # steps of 2% of the 1200×900 photo

    n_left, n_top, n_right, n_bottom = photo.number_box
    page.mouse.move(*stage_point(page, photo, n_left - ROOM, n_top - ROOM))
    page.mouse.down()
    page.mouse.move(*stage_point(page, photo, n_right + ROOM, n_bottom + ROOM), steps=10)
    page.mouse.up()
    crop = crop_shown(page)
    expect_box_around_number(crop, photo)

    with page.expect_response("**/predict"):
        page.get_by_role("button", name="Read this box").click()
    expect(page.get_by_test_id("prediction")).to_have_text("42")
    expect_prediction(web, "42")
    expect_sent_the_box(web, username, photo, crop)
    page.get_by_role("button", name="Whole picture").click()
    assert crop_shown(page) == (0, 0, *photo.image.size)
    assert web.console.errors == []

"""The web page in a real browser against the real service: account, drawing, upload, dashboard, errors."""

from __future__ import annotations

import base64
import io
import json
import re
import time
from urllib.parse import parse_qs, urlparse

import httpx
from playwright.sync_api import Page, Request, expect

from tests.e2e.handwriting import FORTY_TWO, FOUR, FOUR_POINT_TWO, render_strokes
from tests.e2e.support import (
    Screenshots,
    WebPage,
    draw_with_mouse,
    expect_prediction,
    log_in,
    register_in_page,
    touch_stroke,
    unique,
)
from tests.service.harness import register

LOG_ID = re.compile(r"^[0-9a-f-]{36}$")


def draw_with_touch(page: Page, strokes: list[list[tuple[float, float]]], height: float) -> None:
    """Draw ``strokes`` with one finger through Chromium's touch input (CDP), as a phone user does."""
    box = page.get_by_test_id("draw-canvas").bounding_box()
    assert box is not None
    left, top = box["x"] + 30, box["y"] + (box["height"] - height) / 2
    for stroke in strokes:
        touch_stroke(page, [{"x": left + x * height, "y": top + y * height} for x, y in stroke])


def ink_pixels(page: Page) -> int:
    """How many canvas pixels are dark (drawn ink)."""
    return page.get_by_test_id("draw-canvas").evaluate(
        """canvas => {
            const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
            let dark = 0;
            for (let i = 0; i < data.length; i += 4) if (data[i] < 128) dark += 1;
            return dark;
        }"""
    )


def png_bytes(image) -> bytes:
    """Encode a PIL image as PNG."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def picture_of_42() -> bytes:
    """A PNG of "42" as the page's canvas draws it (the strokes the drawing tests use)."""
    return png_bytes(render_strokes(FORTY_TWO))


def expect_model_input(page: Page) -> None:
    """The "what the model saw" panel shows the service's /preview: a PNG 32 pixels high."""
    model_input = page.get_by_test_id("model-input")
    expect(model_input).to_be_visible()
    expect(model_input).to_have_attribute("src", re.compile(r"^data:image/png;base64,"))
    assert model_input.evaluate("img => img.decode().then(() => img.naturalHeight)") == 32


def test_register_draw_42_and_read_it(web: WebPage, screenshots: Screenshots) -> None:
    page = web.page
    page.goto(web.service.url + "/")
    expect(page.get_by_test_id("login")).to_be_visible()
    register_in_page(page, unique("writer"), "a-good-password")
    expect(page.get_by_test_id("role")).to_have_text("user")
    expect(page.get_by_test_id("nav-admin")).to_have_count(0)

    draw_with_mouse(page, FORTY_TWO)
    assert ink_pixels(page) > 500
    page.get_by_test_id("predict").click()
    expect_prediction(web, "42")
    expect(page.get_by_test_id("log-id")).to_have_attribute("data-log-id", LOG_ID)
    expect_model_input(page)
    screenshots.take(page, "recognize.png")
    assert web.console.errors == []


def test_undo_clear_and_empty_canvas(web: WebPage) -> None:
    page = web.page
    page.goto(web.service.url + "/")
    register_in_page(page, unique("undoer"), "a-good-password")
    draw_with_mouse(page, FOUR)
    both = ink_pixels(page)
    page.get_by_test_id("undo").click()
    one = ink_pixels(page)
    assert 0 < one < both
    page.get_by_test_id("stroke-width").fill("30")
    draw_with_mouse(page, FOUR[1:])
    assert ink_pixels(page) > both
    page.get_by_test_id("clear").click()
    assert ink_pixels(page) == 0
    page.get_by_test_id("predict").click()
    expect(page.get_by_test_id("error")).to_contain_text("Draw a number first")
    assert web.console.errors == []


def is_prediction(request: Request) -> bool:
    """The page's call to /predict (whatever its query)."""
    return urlparse(request.url).path.endswith("/predict")


def test_decimal_value_and_the_decimal_mark_choice(web: WebPage) -> None:
    page = web.page
    page.goto(web.service.url + "/")
    register_in_page(page, unique("decimal"), "a-good-password")
    draw_with_mouse(page, FOUR_POINT_TWO)
    with page.expect_request(is_prediction) as sent:
        page.get_by_test_id("predict").click()
    assert parse_qs(urlparse(sent.value.url).query) == {}  # the service's own rule applies
    expect_prediction(web, "4.2")
    expect(page.get_by_test_id("value")).to_have_text("4.2")
    expect(page.get_by_test_id("reading-value")).to_contain_text("“.” is the decimal mark")

    page.get_by_test_id("decimal-separator").select_option("comma")
    with page.expect_request(is_prediction) as sent:
        page.get_by_test_id("predict").click()
    assert parse_qs(urlparse(sent.value.url).query) == {"decimal_separator": ["comma"]}
    expect(page.get_by_test_id("value-error")).to_have_text(
        "not a number: thousands are not grouped by three (a point out of place)"
    )
    expect(page.get_by_test_id("reading-value")).to_have_count(0)
    assert web.console.errors == []


def test_upload_a_picture_and_a_bad_file(web: WebPage) -> None:
    page = web.page
    page.goto(web.service.url + "/")
    username = unique("uploader")
    register(web.service.url, username, "a-good-password")
    log_in(page, username, "a-good-password")

    upload = page.get_by_test_id("upload-input")
    upload.set_input_files(files=[{"name": "42.png", "mimeType": "image/png", "buffer": picture_of_42()}])
    expect(page.get_by_test_id("picked-image")).to_be_visible()
    expect_prediction(web, "42")
    expect_model_input(page)
    assert web.console.errors == []

    upload.set_input_files(files=[{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"not a picture"}])
    expect(page.get_by_test_id("error")).to_contain_text("isn't a picture")

    broken = b"\x89PNG\r\n\x1a\n broken"
    upload.set_input_files(files=[{"name": "broken.png", "mimeType": "image/png", "buffer": broken}])
    expect(page.get_by_test_id("error")).to_contain_text("image")
    assert web.console.unexpected(400) == []


GIVE_PICTURE = """([kind, bytes]) => {
    const file = new File([new Uint8Array(bytes)], "42.png", { type: "image/png" });
    const data = new DataTransfer();
    data.items.add(file);
    if (kind === "paste") {
        document.body.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true }));
    } else {
        const zone = document.querySelector('[data-testid="drop-zone"]');
        for (const type of ["dragover", "drop"]) {
            zone.dispatchEvent(new DragEvent(type, { dataTransfer: data, bubbles: true, cancelable: true }));
        }
    }
}"""


def test_drop_and_paste_a_picture(web: WebPage) -> None:
    page = web.page
    page.goto(web.service.url + "/")
    register_in_page(page, unique("dropper"), "a-good-password")
    picture = list(picture_of_42())
    for kind in ("drop", "paste"):
        with page.expect_response("**/predict") as answer:
            page.evaluate(GIVE_PICTURE, [kind, picture])
        assert answer.value.status == 200
        expect(page.get_by_test_id("picked-image")).to_be_visible()
        expect_prediction(web, "42")
        page.get_by_role("button", name="Back to drawing").click()
    assert web.console.errors == []


def test_admin_sees_the_new_log_row(web: WebPage, screenshots: Screenshots) -> None:
    page = web.page
    page.goto(web.service.url + "/")
    username = unique("logged")
    register_in_page(page, username, "a-good-password")
    draw_with_mouse(page, FORTY_TWO)
    page.get_by_test_id("predict").click()
    log_id = page.get_by_test_id("log-id").get_attribute("data-log-id")
    page.get_by_test_id("logout").click()

    log_in(page, *web.service.admin)
    expect(page.get_by_test_id("role")).to_have_text("admin")
    page.get_by_test_id("nav-admin").click()
    expect(page.locator(f'[data-testid="log-row"][data-log-id="{log_id}"]')).to_be_visible()
    expect(page.get_by_test_id("stat-total")).not_to_have_text("0")
    expect(page.get_by_test_id("model-version-row")).not_to_have_count(0)

    page.get_by_test_id("filter-outcome").select_option("rejected")
    page.get_by_test_id("apply-filters").click()
    expect(page.locator(f'[data-testid="log-row"][data-log-id="{log_id}"]')).to_have_count(0)
    page.get_by_role("button", name="Reset").click()
    row = page.locator(f'[data-testid="log-row"][data-log-id="{log_id}"]')
    expect(row.get_by_test_id("log-value")).to_have_text("42")  # the reading's value, as the log holds it
    for low, high, shown in (("41.5", "42", 1), ("42.01", "", 0)):  # the value range filter, bounds inclusive
        page.get_by_test_id("filter-min-value").fill(low)
        page.get_by_test_id("filter-max-value").fill(high)
        page.get_by_test_id("apply-filters").click()
        expect(row).to_have_count(shown)
    page.get_by_role("button", name="Reset").click()
    expect(row).to_be_visible()
    screenshots.take(page, "dashboard.png", full_page=True)

    account = page.get_by_test_id("user-row").filter(has_text=username)  # disable a hostile user
    account.get_by_test_id("toggle-user").click()
    expect(account.get_by_test_id("user-status")).to_have_text("disabled")
    credentials = {"username": username, "password": "a-good-password"}
    assert httpx.post(web.service.url + "/auth/login", json=credentials, timeout=30).status_code == 401
    account.get_by_test_id("toggle-user").click()
    expect(account.get_by_test_id("user-status")).to_have_text("enabled")
    assert httpx.post(web.service.url + "/auth/login", json=credentials, timeout=30).status_code == 200
    assert web.console.errors == []


def test_plain_user_is_refused_the_dashboard(web: WebPage) -> None:
    page = web.page
    page.goto(web.service.url + "/")
    register_in_page(page, unique("curious"), "a-good-password")
    expect(page.get_by_test_id("nav-admin")).to_have_count(0)
    page.goto(web.service.url + "/#/admin")
    refusal = page.get_by_test_id("admin-refused")
    expect(refusal).to_contain_text("Admins only")
    expect(refusal).to_contain_text(re.compile("admin role required", re.IGNORECASE))
    expect(page.get_by_test_id("log-table")).to_have_count(0)
    assert web.console.unexpected(403) == []


def _token_with_payload(token: str, **changes) -> str:
    """The token with its payload changed (its signature no longer matches)."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims.update(changes)
    encoded = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{encoded}.{signature}"


def test_expired_or_refused_login_goes_back_to_login(web: WebPage) -> None:
    page = web.page
    username = unique("expiring")
    token = register(web.service.url, username, "a-good-password")

    page.goto(web.service.url + "/")
    save_token = "t => localStorage.setItem('digitify.token', t)"
    page.evaluate(save_token, _token_with_payload(token, exp=int(time.time()) - 60))
    page.reload()
    expect(page.get_by_test_id("notice")).to_contain_text("expired")
    expect(page.get_by_test_id("login")).to_be_visible()

    page.evaluate(save_token, _token_with_payload(token, exp=int(time.time()) + 600))
    page.reload()
    draw_with_mouse(page, FOUR)
    page.get_by_test_id("predict").click()
    expect(page.get_by_test_id("notice")).to_contain_text("log in again")
    expect(page.get_by_test_id("login")).to_be_visible()
    assert web.console.unexpected(401) == []


def test_service_down_is_explained(web: WebPage) -> None:
    page = web.page
    page.goto(web.service.url + "/")
    register_in_page(page, unique("offline"), "a-good-password")
    page.route("**/predict", lambda route: route.abort("connectionrefused"))
    draw_with_mouse(page, FOUR)
    page.get_by_test_id("predict").click()
    expect(page.get_by_test_id("error")).to_contain_text("Can't reach the Digitify service")
    assert [error for error in web.console.errors if "ERR_CONNECTION_REFUSED" not in error] == []


def test_phone_draws_with_touch(phone: WebPage, screenshots: Screenshots) -> None:
    page = phone.page
    page.goto(phone.service.url + "/")
    register_in_page(page, unique("thumb"), "a-good-password")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    canvas = page.get_by_test_id("draw-canvas")
    expect(canvas).to_have_css("touch-action", "none")
    box = canvas.bounding_box()
    assert box is not None
    draw_with_touch(page, FORTY_TWO, height=box["height"] * 0.7)
    assert ink_pixels(page) > 300
    assert page.evaluate("window.scrollY") == 0
    page.get_by_test_id("predict").tap()
    expect_prediction(phone, "42")
    screenshots.take(page, "phone.png", full_page=True)
    assert phone.console.errors == []

"""The FastAPI app mounted on the BentoML service: uploads, accounts, corrections, admin queries, docs and the web UI.

``POST /predict`` is declared here, not behind BentoML's IO layer: the request guard has already
checked the multipart body and parsed its one file (``service.request_guard.uploads_of``), so the
worker's ``Predictor`` reads those bytes with no second parse, no temporary file and no validation
of a model BentoML would build only to take apart again. ``service.predict_route`` answers it from
the innermost middleware, before the routers; the declaration here documents it.

``/auth/register`` and ``/auth/login`` are public, throttled per client address and per
username, and hash passwords on their own threads (``service.auth_throttle``); ``/auth/me``
``/corrections`` and ``/admin/*`` rely on the account the auth middleware put in the request scope (the
middleware already refused everyone else). The web UI's built files (``service/web/dist``) are served at ``/`` when they
exist; the Swagger UI of the whole service then lives at ``/docs``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.exc import SQLAlchemyError
from starlette.staticfiles import StaticFiles

from models.charset import CHARSET
from service.admin_queries import LogFilter, SortKey, log_row, query_logs, stats
from service.auth import MAX_PASSWORD_LENGTH, MAX_USERNAME_LENGTH, CredentialsFormatError, issue_token
from service.auth_middleware import account_of
from service.auth_throttle import ThrottledError
from service.config import web_dir
from service.corrections import (
    CorrectionError,
    CorrectionFilter,
    corrected_share,
    correction_item,
    corrections_of,
    image_url,
    query_corrections,
    review,
    submit,
)
from service.image_store import SHA256
from service.predict_route import predict_answer
from service.runtime import RESERVED_NAMES, Runtime, RuntimeNotReadyError, current
from service.schemas import PredictionResult
from service.tables import CORRECTION_ACCEPTED, CORRECTION_REJECTED, OUTCOME_OK
from service.users import Account, UserExistsError

MAX_PAGE = 1_000_000

app = FastAPI(title="Digitify accounts and admin", docs_url=None, redoc_url=None, openapi_url=None)


class Credentials(BaseModel):
    """A username and password, as sent to register and log in (lengths bounded before any hashing)."""

    username: Annotated[str, Field(max_length=MAX_USERNAME_LENGTH)]
    password: Annotated[str, Field(max_length=MAX_PASSWORD_LENGTH)]


class TokenResponse(BaseModel):
    """An access token for the ``Authorization: Bearer`` header."""

    access_token: str
    token_type: str = "bearer"
    expires_in: int


class AccountResponse(BaseModel):
    """Who an account is."""

    username: str
    role: str


async def runtime() -> Runtime:
    """Return the process runtime (503 while the service starts)."""
    try:
        return current()
    except RuntimeNotReadyError as exc:
        raise HTTPException(503, "the service is starting") from exc


def signed_in(request: Request) -> Account:
    """Return the account the auth middleware authenticated (401 if it did not)."""
    account = account_of(request.scope)
    if account is None:
        raise HTTPException(401, "missing bearer token")
    return account


def admin(account: Annotated[Account, Depends(signed_in)]) -> Account:
    """Return the authenticated account if it is an admin (403 otherwise)."""
    if not account.is_admin:
        raise HTTPException(403, "admin role required")
    return account


@app.exception_handler(HTTPException)
async def http_error(_: Request, exc: HTTPException) -> JSONResponse:
    """Errors as ``{"error": message}``, like the prediction routes."""
    return JSONResponse({"error": exc.detail}, status_code=exc.status_code, headers=exc.headers)


@app.exception_handler(RequestValidationError)
async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
    """Invalid parameters: 422 with a readable summary and the details."""
    details = [{"loc": list(error["loc"]), "msg": error["msg"]} for error in exc.errors()]
    summary = "; ".join(f"{'.'.join(str(p) for p in d['loc'][1:]) or 'body'}: {d['msg']}" for d in details)
    return JSONResponse({"error": f"invalid request: {summary}", "detail": details}, status_code=422)


@app.exception_handler(ThrottledError)
async def throttled(_: Request, exc: ThrottledError) -> JSONResponse:
    """Refused authentication attempts: 429 (or 503) saying when to come back."""
    return JSONResponse({"error": str(exc)}, status_code=exc.status, headers={"retry-after": str(exc.retry_after)})


def client_address(request: Request) -> str:
    """The address of the client that sent ``request`` (the connection's peer)."""
    return request.client.host if request.client is not None else "local"


@app.exception_handler(CorrectionError)
async def correction_refused(_: Request, exc: CorrectionError) -> JSONResponse:
    """A correction that cannot be taken or found: its status and a readable reason."""
    return JSONResponse({"error": str(exc)}, status_code=exc.status)


@app.exception_handler(SQLAlchemyError)
async def database_error(_: Request, exc: SQLAlchemyError) -> JSONResponse:
    """Answer 503 when the database is down or refused the query; the service itself is fine."""
    return JSONResponse({"error": "the database is unavailable, try again shortly"}, status_code=503)


@app.post("/auth/register", status_code=201)
async def register(
    credentials: Credentials, request: Request, rt: Annotated[Runtime, Depends(runtime)]
) -> AccountResponse:
    """Create a user account (role ``user``)."""
    if not rt.settings.allow_registration:
        raise HTTPException(403, "registration is disabled on this server")
    rt.auth_throttle.admit(client_address(request))

    def create() -> Account:
        rt.ensure_schema()
        return rt.users.create(credentials.username, credentials.password)

    try:
        account = await rt.auth_throttle.hash_off_the_main_pool(create)
    except CredentialsFormatError as exc:
        raise HTTPException(400, str(exc)) from exc
    except UserExistsError as exc:
        raise HTTPException(409, str(exc)) from exc
    rt.directory.forget(account.username)
    return AccountResponse(username=account.username, role=account.role)


@app.post("/auth/login")
async def login(credentials: Credentials, request: Request, rt: Annotated[Runtime, Depends(runtime)]) -> TokenResponse:
    """Exchange a username and password for a bearer token."""
    rt.auth_throttle.admit(client_address(request), credentials.username)

    def authenticate() -> Account | None:
        rt.ensure_schema()
        return rt.users.authenticate(credentials.username, credentials.password)

    account = await rt.auth_throttle.hash_off_the_main_pool(authenticate)
    if account is None:
        rt.auth_throttle.failed_login(credentials.username)
        raise HTTPException(401, "wrong username or password", headers={"www-authenticate": "Bearer"})
    ttl = rt.settings.token_ttl_seconds
    token = issue_token(rt.settings.jwt_secret, account.username, account.role, ttl, version=account.token_version)
    return TokenResponse(access_token=token, expires_in=ttl)


@app.get("/auth/me")
def me(account: Annotated[Account, Depends(signed_in)]) -> AccountResponse:
    """Return the account the bearer token belongs to."""
    return AccountResponse(username=account.username, role=account.role)


def log_filter(
    user: str | None = None,
    text: Annotated[str | None, Query(max_length=128)] = None,
    contains: Annotated[
        str | None, Query(min_length=1, max_length=1, description="one character of the charset")
    ] = None,
    min_confidence: Annotated[float | None, Query(ge=0, le=1)] = None,
    max_confidence: Annotated[float | None, Query(ge=0, le=1)] = None,
    since: Annotated[datetime | None, Query(description="ISO time, inclusive (UTC if no zone)")] = None,
    until: Annotated[datetime | None, Query(description="ISO time, exclusive (UTC if no zone)")] = None,
    model_version: str | None = None,
    outcome: Literal["ok", "rejected"] | None = None,
    endpoint: str | None = None,
) -> LogFilter:
    """Build the log filter from query parameters, validated."""
    if contains is not None and contains not in CHARSET:
        raise HTTPException(422, f"contains must be one character of {CHARSET!r}")
    return LogFilter(
        username=user,
        text=text,
        contains=contains,
        min_confidence=min_confidence,
        max_confidence=max_confidence,
        since=_utc(since),
        until=_utc(until),
        model_version=model_version,
        outcome=outcome,
        endpoint=endpoint,
    )


def _utc(moment: datetime | None) -> datetime | None:
    """Convert a datetime to naive UTC (the stored form); naive input is taken as UTC."""
    if moment is None or moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


@app.get("/admin/logs")
def admin_logs(
    _: Annotated[Account, Depends(admin)],
    rt: Annotated[Runtime, Depends(runtime)],
    filters: Annotated[LogFilter, Depends(log_filter)],
    sort: SortKey = "created_at",
    order: Literal["asc", "desc"] = "desc",
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    """Prediction log rows matching the filters, sorted and paginated, with the total count."""
    rt.ensure_schema()
    with rt.sessions() as session:
        total, rows = query_logs(session, filters, sort, order == "desc", page, page_size)
        corrected = corrections_of(session, [row.id for row in rows])
    items = []
    for row in rows:
        correction = corrected.get(row.id)
        items.append(
            {
                **log_row(row),
                "image_url": image_url(row.image_sha256) if row.outcome == OUTCOME_OK else None,
                "corrected_text": correction.text if correction else None,
                "correction_status": correction.status if correction else None,
            }
        )
    return paged(total, page, page_size, items)


def paged(total: int, page: int, page_size: int, items: list[dict[str, Any]]) -> dict[str, Any]:
    """One page of a listing: the items, where they stand (``page`` of ``pages``) and the total count."""
    pages = (total + page_size - 1) // page_size
    return {"total": total, "page": page, "page_size": page_size, "pages": pages, "items": items}


@app.get("/admin/stats")
def admin_stats(
    _: Annotated[Account, Depends(admin)],
    rt: Annotated[Runtime, Depends(runtime)],
    filters: Annotated[LogFilter, Depends(log_filter)],
    low_confidence: Annotated[float | None, Query(ge=0, le=1)] = None,
) -> dict[str, Any]:
    """Summarize: per-day counts, confidence histogram, low-confidence rate, latency percentiles, per-user/model."""
    rt.ensure_schema()
    threshold = rt.settings.low_confidence if low_confidence is None else low_confidence
    with rt.sessions() as session:
        summary = stats(session, filters, threshold)
        summary["corrections"] = corrected_share(session, filters)
    summary["spooled_rows"] = rt.logbook.spool.count()
    summary["quarantined_rows"] = rt.logbook.spool.quarantined_count()
    return summary


UPLOAD_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["image"],
                "properties": {"image": {"type": "string", "format": "binary", "description": "PNG, JPEG, ..."}},
            }
        }
    },
}
REFUSED = {"description": "the image could not be read: `{error, log_id}`"}


@app.post(
    "/predict",
    response_model=PredictionResult,
    responses={400: REFUSED, 413: REFUSED, 415: REFUSED, 422: REFUSED},
    openapi_extra={"requestBody": UPLOAD_BODY},
)
async def predict(request: Request) -> Response:
    """Read the number in an uploaded image (multipart form field ``image``).

    ``service.predict_route.PredictRoute`` answers this route before the routers are reached; this
    declaration documents it and serves it wherever that middleware is not installed.
    """
    status, body = await predict_answer(request.scope)
    return Response(body, status_code=status, media_type="application/json")


class CorrectionRequest(BaseModel):
    """What a person says a prediction should have read."""

    log_id: Annotated[str, Field(min_length=1, max_length=36, description="the prediction's log_id")]
    text: Annotated[str, Field(max_length=256, description="the right number: digits 0-9 and '.'")]


@app.post("/corrections", status_code=201)
def correct(
    body: CorrectionRequest,
    response: Response,
    account: Annotated[Account, Depends(signed_in)],
    rt: Annotated[Runtime, Depends(runtime)],
) -> dict[str, Any]:
    """Say what a prediction should have read (your own prediction, or any as an admin); an admin reviews it.

    201 for a new correction, 200 when it replaces an earlier one of the same prediction.
    """
    rt.ensure_schema()

    def kept_uri(sha256: str) -> str | None:
        return rt.images.uri(sha256) if rt.images.exists(sha256) else None

    def attempt() -> dict[str, Any]:
        with rt.sessions() as session:
            correction, prediction, created = submit(session, account, body.log_id, body.text, kept_uri)
            response.status_code = 201 if created else 200
            return correction_item(correction, prediction)

    try:
        return attempt()
    except CorrectionError as exc:
        if exc.status != 404:
            raise
    rt.logbook.flush()  # a prediction made a moment ago may still wait in the spool
    return attempt()


def correction_filter(
    filters: Annotated[LogFilter, Depends(log_filter)],
    status: Literal["pending", "accepted", "rejected"] | None = None,
    corrected_by: str | None = None,
) -> CorrectionFilter:
    """Build the corrections filter: its status and author, and the log filter over the predictions."""
    return CorrectionFilter(status=status, corrected_by=corrected_by, predictions=filters)


@app.get("/admin/corrections")
def admin_corrections(
    _: Annotated[Account, Depends(admin)],
    rt: Annotated[Runtime, Depends(runtime)],
    filters: Annotated[CorrectionFilter, Depends(correction_filter)],
    order: Literal["asc", "desc"] = "desc",
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    """Corrections matching the filters, newest first by default, paginated, with the total count."""
    rt.ensure_schema()
    with rt.sessions() as session:
        total, rows = query_corrections(session, filters, order == "desc", page, page_size)
    return paged(total, page, page_size, [correction_item(correction, prediction) for correction, prediction in rows])


def _review(rt: Runtime, account: Account, log_id: str, status: str) -> dict[str, Any]:
    """Set a correction's review status and answer the updated item."""
    rt.ensure_schema()
    with rt.sessions() as session:
        return correction_item(*review(session, account, log_id, status))


@app.post("/admin/corrections/{log_id}/accept")
def accept_correction(
    log_id: str, account: Annotated[Account, Depends(admin)], rt: Annotated[Runtime, Depends(runtime)]
) -> dict[str, Any]:
    """Accept a correction: with its image kept, it becomes training data at the next export."""
    return _review(rt, account, log_id, CORRECTION_ACCEPTED)


@app.post("/admin/corrections/{log_id}/reject")
def reject_correction(
    log_id: str, account: Annotated[Account, Depends(admin)], rt: Annotated[Runtime, Depends(runtime)]
) -> dict[str, Any]:
    """Reject a correction: it is kept for the record but never exported."""
    return _review(rt, account, log_id, CORRECTION_REJECTED)


IMAGE_TYPES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF8", "image/gif"),
    (b"BM", "image/bmp"),
)


def media_type(data: bytes) -> str:
    """The image type its first bytes announce (``application/octet-stream`` when unknown)."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return next((kind for magic, kind in IMAGE_TYPES if data.startswith(magic)), "application/octet-stream")


@app.get("/admin/images/{sha256}")
def admin_image(
    sha256: str, _: Annotated[Account, Depends(admin)], rt: Annotated[Runtime, Depends(runtime)]
) -> Response:
    """A kept prediction image, by the SHA-256 of its bytes (404 when it was not kept or has expired)."""
    if not SHA256.fullmatch(sha256):
        raise HTTPException(422, "an image is named by the SHA-256 of its bytes: 64 lower-case hex digits")
    data = rt.images.get(sha256)
    if data is None:
        raise HTTPException(404, "this image is not kept (the deployment does not keep images, or it expired)")
    return Response(data, media_type=media_type(data), headers={"cache-control": "private, max-age=86400"})


@app.get("/admin/quarantine")
def admin_quarantine(
    _: Annotated[Account, Depends(admin)],
    rt: Annotated[Runtime, Depends(runtime)],
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    """Prediction-log rows the database refused for good, newest first: kept in the spool with the reason."""
    return {"total": rt.logbook.spool.quarantined_count(), "items": rt.logbook.spool.quarantined(limit)}


@app.get("/docs", include_in_schema=False)
def docs() -> HTMLResponse:
    """Swagger UI for the whole service (BentoML's spec and bundled assets, nothing from a CDN)."""
    return get_swagger_ui_html(
        openapi_url="/docs.json",
        title="Digitify API",
        swagger_js_url="/static_content/swagger-ui-bundle.js",
        swagger_css_url="/static_content/swagger-ui.css",
        swagger_favicon_url="/static_content/favicon-light-32x32.png",
    )


def mount_web(target: FastAPI, web_dir: Path) -> None:
    """Serve a built web UI: ``/`` is its index.html, its top-level files and folders keep their names."""
    index = web_dir / "index.html"
    if not index.is_file():
        return

    async def web_index() -> FileResponse:
        return FileResponse(index)

    target.add_api_route("/", web_index, methods=["GET"], include_in_schema=False)
    for entry in sorted(web_dir.iterdir()):
        if entry.name in RESERVED_NAMES or entry.name.startswith(".") or entry.name == "index.html":
            continue
        if entry.is_dir():
            target.mount(f"/{entry.name}", StaticFiles(directory=entry), name=f"web-{entry.name}")
        elif entry.is_file():
            target.add_api_route(f"/{entry.name}", _file_route(entry), methods=["GET"], include_in_schema=False)


def _file_route(path: Path) -> Any:
    """Make a route handler answering one static file."""

    async def serve() -> FileResponse:
        return FileResponse(path)

    return serve


mount_web(app, web_dir())

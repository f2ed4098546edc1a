"""The FastAPI app mounted on the BentoML service: accounts, corrections, admin, the docs and the web UI.

One router per resource (``service.api.accounts``, ``.corrections``, ``.admin``, ``.live``: the live
dashboard's stream, ``.users``, ``.web``, ``.tasks``: the async tasks' status, result, cancel and retry); the other
prediction routes are the BentoML service's own APIs (``service.service``, answered by
``service.api.predictions``). Every error answers ``{"error": message}``
(``service.http.asgi.error_response``), and a route that needs the runtime before the worker has
built it answers the one "starting" 503.
"""

from __future__ import annotations

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError

from service.accounts.throttle import ThrottledError
from service.api import accounts, admin, corrections, live, tasks, users, web
from service.core.config import web_dir
from service.core.runtime import RuntimeNotReadyError
from service.corrections.queue import CorrectionError
from service.http.asgi import error_response, starting_response
from service.tasks.queue import TasksUnavailableError

app = FastAPI(title="Digitify accounts and admin", docs_url=None, redoc_url=None, openapi_url=None)
app.include_router(accounts.router)
app.include_router(corrections.router)
app.include_router(admin.router)
app.include_router(live.router)
app.include_router(users.router)
app.include_router(tasks.router)
app.include_router(web.router)


@app.exception_handler(HTTPException)
async def http_error(_: Request, exc: HTTPException) -> JSONResponse:
    """Errors as ``{"error": message}``, like the prediction routes."""
    return error_response(exc.status_code, exc.detail, exc.headers)


@app.exception_handler(RequestValidationError)
async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
    """Invalid parameters: 422 with a readable summary and the details."""
    details = [{"loc": list(error["loc"]), "msg": error["msg"]} for error in exc.errors()]
    summary = "; ".join(f"{'.'.join(str(p) for p in d['loc'][1:]) or 'body'}: {d['msg']}" for d in details)
    return error_response(422, f"invalid request: {summary}", detail=details)


@app.exception_handler(ThrottledError)
async def throttled(_: Request, exc: ThrottledError) -> JSONResponse:
    """Refused authentication attempts: 429 (or 503) saying when to come back."""
    return error_response(exc.status, str(exc), {"retry-after": str(exc.retry_after)})


@app.exception_handler(CorrectionError)
async def correction_refused(_: Request, exc: CorrectionError) -> JSONResponse:
    """A correction that cannot be taken or found: its status and a readable reason."""
    return error_response(exc.status, str(exc))


@app.exception_handler(SQLAlchemyError)
async def database_error(_: Request, exc: SQLAlchemyError) -> JSONResponse:
    """Answer 503 when the database is down or refused the query; the service itself is fine."""
    return error_response(503, "the database is unavailable, try again shortly")


@app.exception_handler(TasksUnavailableError)
async def tasks_unavailable(_: Request, exc: TasksUnavailableError) -> JSONResponse:
    """Answer 503 naming ``REDIS_URL`` while Redis, which holds the async tasks, cannot be reached."""
    return tasks.unavailable(exc)


@app.exception_handler(RuntimeNotReadyError)
async def starting(_: Request, exc: RuntimeNotReadyError) -> JSONResponse:
    """Answer 503 while this worker has not finished starting."""
    return starting_response()


web.mount_web(app, web_dir())

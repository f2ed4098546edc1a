"""What the async prediction routes answer: ``/predict_async/{submit,status,get,cancel,retry}``.

``submit`` is an API of the BentoML service (``service.service``: the images of the repeated
multipart field ``images``, as the request guard parsed and checked them); the others are
this FastAPI router's. A task is Celery's, its record Redis's (``service.tasks``). Every route but
``submit`` acts on the one ``task_id`` of its query (given twice: 400) and answers 404, as if
there were no such task, to anyone but its owner (recorded in the task's own record) or an admin.
While Redis cannot be reached they answer 503 naming ``REDIS_URL``; the rest of the service works.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import anyio
import bentoml
from fastapi import APIRouter, Depends, HTTPException, Request
from starlette.responses import JSONResponse

from service.accounts.users import Account
from service.api.deps import runtime, signed_in
from service.api.predictions import refused, username
from service.core.runtime import Runtime
from service.http.asgi import STARTING_HEADERS, error_response
from service.prediction.schemas import BatchResult, TaskStatus
from service.prediction.uploads import InputError
from service.prediction.values import separator_rule, with_item_values
from service.tasks.queue import TasksUnavailableError
from service.tasks.reader import ENDPOINT
from service.tasks.records import DONE, TaskRecord

NOT_FOUND = "task_id not found among your tasks"
router = APIRouter(prefix="/predict_async", tags=["async prediction"])


def status_of(record: TaskRecord) -> TaskStatus:
    """The answer that says where a task stands."""
    return TaskStatus(
        task_id=record.task_id,
        status=record.status,
        done=record.done,
        total=record.total,
        created_at=record.created_at,
        updated_at=record.updated_at,
        error=record.error,
    )


async def submit(state: Runtime, images: list[bytes], ctx: bentoml.Context) -> TaskStatus | JSONResponse:
    """Queue a task of the caller's with the uploaded images; answer its id and status at once (413 past the limit)."""
    limit = state.settings.max_task_images
    user = username(ctx)
    if len(images) > limit:
        error = InputError(f"{len(images)} images in one task; at most {limit}", 413)
        return refused(await state.predictor.refuse(error, ENDPOINT, user, time.perf_counter()), ctx)
    try:
        record = await anyio.to_thread.run_sync(state.tasks.submit, user or "", images)
    except TasksUnavailableError as exc:
        ctx.response.status_code = 503
        return unavailable(exc)
    return status_of(record)


def task_id(request: Request) -> str:
    """The one ``task_id`` of the query (400 when it is missing or given more than once)."""
    values = request.query_params.getlist("task_id")
    if not values:
        raise HTTPException(400, "task_id is required")
    if len(values) > 1:
        raise HTTPException(400, "give task_id once: a request acts on one task")
    return values[0]


async def owned_task(
    task: Annotated[str, Depends(task_id)],
    account: Annotated[Account, Depends(signed_in)],
    state: Annotated[Runtime, Depends(runtime)],
) -> TaskRecord:
    """The task's record if the caller owns it or is an admin; 404 otherwise, as if it did not exist."""
    record = await anyio.to_thread.run_sync(state.tasks.find, task)
    if record is None or (record.owner != account.username and not account.is_admin):
        raise HTTPException(404, NOT_FOUND)
    return record


@router.get("/status", response_model=TaskStatus)
async def status(record: Annotated[TaskRecord, Depends(owned_task)]) -> TaskStatus:
    """Where the task stands: queued, running (images done of total), done, failed or canceled."""
    return status_of(record)


@router.get("/get", response_model=BatchResult)
async def get(
    request: Request, record: Annotated[TaskRecord, Depends(owned_task)], state: Annotated[Runtime, Depends(runtime)]
) -> dict[str, Any]:
    """The result of a done task (409 before it is done; 404 once it expired), values by this request's rule."""
    try:
        rule = separator_rule(request.query_params, state.settings.decimal_separator)
    except InputError as exc:
        raise HTTPException(exc.status, str(exc)) from exc
    if record.status != DONE:
        raise HTTPException(409, f"task {record.task_id} is {record.status}: its result is there once it is done")
    result = await anyio.to_thread.run_sync(state.tasks.result, record.task_id)
    if result is None:
        raise HTTPException(404, NOT_FOUND)
    return with_item_values(result, rule)


@router.put("/cancel", response_model=TaskStatus)
async def cancel(
    record: Annotated[TaskRecord, Depends(owned_task)], state: Annotated[Runtime, Depends(runtime)]
) -> TaskStatus:
    """Cancel a queued or running task (a worker stops at its next chunk; what it read stays logged)."""
    cancelled, now = await anyio.to_thread.run_sync(state.tasks.cancel, record.task_id)
    if not cancelled:
        raise HTTPException(409, f"task {record.task_id} is {now}: only a queued or running task can be cancelled")
    return await _status_now(state, record)


@router.post("/retry", response_model=TaskStatus)
async def retry(
    record: Annotated[TaskRecord, Depends(owned_task)], state: Annotated[Runtime, Depends(runtime)]
) -> TaskStatus:
    """Queue a failed or cancelled task again under the same id; it resumes at the first image not read."""
    queued, now = await anyio.to_thread.run_sync(state.tasks.retry, record.task_id)
    if not queued:
        raise HTTPException(409, f"task {record.task_id} is {now}: only a failed or cancelled task can be retried")
    return await _status_now(state, record)


async def _status_now(state: Runtime, record: TaskRecord) -> TaskStatus:
    """The task's status as its record says now (the record given, if it just expired)."""
    found = await anyio.to_thread.run_sync(state.tasks.find, record.task_id)
    return status_of(found or record)


def unavailable(error: TasksUnavailableError) -> JSONResponse:
    """The answer while Redis cannot be reached: 503, naming ``REDIS_URL``."""
    return error_response(503, str(error), STARTING_HEADERS)

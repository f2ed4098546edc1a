"""Each async task's record in Redis: who owns it, where it stands, its images and the readings done so far.

Three keys per task: ``digitify:task:<id>`` (a hash: ``owner``, ``status``, ``total``, ``done``,
times, ``error``), ``...:images`` (a hash: image index to the uploaded bytes) and ``...:items``
(a list: the JSON result item of every image read, in order). Every change of status is one Lua
script, so a cancel racing a worker's progress is decided in one place:

- ``queued`` (submitted, or retried) → ``running`` (a worker claimed it; a re-delivered task
  is claimed again and resumes at ``done``) → ``done`` or ``failed``;
- ``queued`` or ``running`` → ``canceled``; ``failed`` or ``canceled`` → ``queued`` (retry).

A chunk of readings is committed only while the task runs and only at the position the worker
read from, and the images of a committed chunk are deleted with it: Redis holds an image only
until it is read. A finished task keeps its record for ``ttl`` seconds (``DIGITIFY_TASK_RESULT_TTL``);
a failed or cancelled one keeps its unread images as long, for a retry. An unfinished task's keys
expire after ``UNFINISHED_TTL_S``, so nothing stays for ever. No credential is stored.

Every change of status also keeps ``digitify:tasks:active`` (a hash: the id of each queued or
running task to its status, what the live dashboard counts: :meth:`TaskRecords.active`) and
announces the new status on the live dashboard's channel (``service.live.events``), in the same
script or transaction as the change itself: no extra round trip, and no change goes unannounced.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import redis

from service.live.events import CHANNEL, TASK, encode

QUEUED, RUNNING, DONE, FAILED, CANCELED = "queued", "running", "done", "failed", "canceled"
RETRYABLE = frozenset({FAILED, CANCELED})
UNFINISHED_TTL_S = 7 * 86_400
PREFIX = "digitify:task:"
ACTIVE = "digitify:tasks:active"

# Prepended to every script that changes a status: the active tasks' index, and the event.
_ANNOUNCE = f"""
local function announce(active, status)
  local task_id = string.sub(KEYS[1], {len(PREFIX) + 1})
  if status == 'queued' or status == 'running' then
    redis.call('HSET', active, task_id, status)
  else
    redis.call('HDEL', active, task_id)
  end
  redis.call('PUBLISH', '{CHANNEL}', '{{"kind":"{TASK}","status":"' .. status .. '"}}')
end
"""
_CLAIM = """
local status = redis.call('HGET', KEYS[1], 'status')
if status ~= 'queued' and status ~= 'running' then return -1 end
redis.call('HSET', KEYS[1], 'status', 'running', 'updated_at', ARGV[1])
if status == 'queued' then announce(KEYS[2], 'running') end
return tonumber(redis.call('HGET', KEYS[1], 'done'))
"""
_COMMIT = """
if redis.call('HGET', KEYS[1], 'status') ~= 'running' or redis.call('HGET', KEYS[1], 'done') ~= ARGV[1] then
  return 0
end
local start = tonumber(ARGV[1])
for i = 4, #ARGV do
  redis.call('RPUSH', KEYS[3], ARGV[i])
  redis.call('HDEL', KEYS[2], tostring(start + i - 4))
end
redis.call('HSET', KEYS[1], 'done', start + #ARGV - 3, 'updated_at', ARGV[2])
redis.call('EXPIRE', KEYS[3], ARGV[3])
return 1
"""
_FINISH = """
if redis.call('HGET', KEYS[1], 'status') ~= 'running' then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'updated_at', ARGV[2], 'error', ARGV[4])
announce(KEYS[4], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
if ARGV[1] == 'done' then
  redis.call('DEL', KEYS[2], KEYS[3])
else
  redis.call('EXPIRE', KEYS[2], ARGV[3])
  redis.call('EXPIRE', KEYS[3], ARGV[3])
end
return 1
"""
_MOVE = """
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {0, ''} end
local allowed = false
for i = 4, #ARGV do if ARGV[i] == status then allowed = true end end
if not allowed then return {0, status} end
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'updated_at', ARGV[2], 'error', '')
announce(KEYS[4], ARGV[1])
for i = 1, 3 do redis.call('EXPIRE', KEYS[i], ARGV[3]) end
return {1, ARGV[1]}
"""


@dataclass(frozen=True)
class TaskRecord:
    """A task as its record says: owner, status, images read of the total, times and the error of a failed one."""

    task_id: str
    owner: str
    status: str
    total: int
    done: int
    created_at: str
    updated_at: str
    error: str | None


def _now() -> str:
    """The time now, as an ISO string in UTC."""
    return datetime.now(UTC).isoformat()


def _keys(task_id: str) -> list[str]:
    """The record's, the images' and the items' keys of a task."""
    return [f"{PREFIX}{task_id}", f"{PREFIX}{task_id}:images", f"{PREFIX}{task_id}:items"]


class TaskRecords:
    """Reads and changes task records in one Redis (``REDIS_URL``); Redis errors are the caller's to answer."""

    def __init__(self, client: redis.Redis, ttl: int) -> None:
        self.client = client
        self.ttl = ttl
        self._claim = client.register_script(_ANNOUNCE + _CLAIM)
        self._commit = client.register_script(_COMMIT)
        self._finish = client.register_script(_ANNOUNCE + _FINISH)
        self._move = client.register_script(_ANNOUNCE + _MOVE)

    def create(self, task_id: str, owner: str, images: Sequence[bytes]) -> TaskRecord:
        """Record a new queued task of ``owner`` with its images (an empty task is done at once)."""
        now = _now()
        meta, images_key, _ = _keys(task_id)
        status = QUEUED if images else DONE
        fields = {"owner": owner, "status": status, "total": len(images), "done": 0, "created_at": now}
        with self.client.pipeline(transaction=True) as pipe:
            pipe.hset(meta, mapping={**fields, "updated_at": now, "error": ""})
            pipe.expire(meta, UNFINISHED_TTL_S if images else self.ttl)
            if images:
                pipe.hset(images_key, mapping={str(index): data for index, data in enumerate(images)})
                pipe.expire(images_key, UNFINISHED_TTL_S)
                pipe.hset(ACTIVE, task_id, QUEUED)
            pipe.publish(CHANNEL, encode(TASK, status=status))
            pipe.execute()
        return TaskRecord(task_id, owner, status, len(images), 0, now, now, None)

    def find(self, task_id: str) -> TaskRecord | None:
        """The task's record, or None if there is none (never submitted, or expired)."""
        fields = self.client.hgetall(_keys(task_id)[0])
        if not fields:
            return None
        text = {key.decode(): value.decode() for key, value in fields.items()}
        return TaskRecord(
            task_id=task_id,
            owner=text["owner"],
            status=text["status"],
            total=int(text["total"]),
            done=int(text["done"]),
            created_at=text["created_at"],
            updated_at=text["updated_at"],
            error=text.get("error") or None,
        )

    def delete(self, task_id: str) -> None:
        """Forget a task entirely (a submission whose message could not be sent)."""
        with self.client.pipeline(transaction=True) as pipe:
            pipe.delete(*_keys(task_id))
            pipe.hdel(ACTIVE, task_id)
            pipe.execute()

    def active(self) -> dict[str, int]:
        """How many tasks are queued and running; tasks whose record expired leave the index here."""
        index = {key.decode(): value.decode() for key, value in self.client.hgetall(ACTIVE).items()}
        with self.client.pipeline(transaction=False) as pipe:
            for task_id in index:
                pipe.exists(_keys(task_id)[0])
            present = pipe.execute()
        gone = [task_id for task_id, exists in zip(index, present, strict=True) if not exists]
        if gone:
            self.client.hdel(ACTIVE, *gone)
        statuses = [status for task_id, status in index.items() if task_id not in gone]
        return {QUEUED: statuses.count(QUEUED), RUNNING: statuses.count(RUNNING)}

    def claim(self, task_id: str) -> int | None:
        """Mark a queued (or re-delivered running) task running; return how many images are done, or None to skip it."""
        done = int(self._claim(keys=[_keys(task_id)[0], ACTIVE], args=[_now()]))
        return None if done < 0 else done

    def images(self, task_id: str, start: int, stop: int) -> list[bytes | None]:
        """The uploaded bytes of images ``start`` to ``stop - 1`` (None for one no longer held)."""
        return self.client.hmget(_keys(task_id)[1], [str(index) for index in range(start, stop)])

    def commit(self, task_id: str, start: int, items: Sequence[dict[str, Any]]) -> bool:
        """Add the items of images ``start`` on, drop their images; False if the task no longer runs from there."""
        args = [str(start), _now(), str(UNFINISHED_TTL_S), *(json.dumps(item) for item in items)]
        return bool(self._commit(keys=_keys(task_id), args=args))

    def items(self, task_id: str) -> list[dict[str, Any]]:
        """The result items committed so far, in image order."""
        return [json.loads(item) for item in self.client.lrange(_keys(task_id)[2], 0, -1)]

    def finish(self, task_id: str, status: str, error: str = "") -> bool:
        """End a running task as ``done`` (images and items deleted) or ``failed``; its record then lives ``ttl`` s."""
        return bool(self._finish(keys=[*_keys(task_id), ACTIVE], args=[status, _now(), str(self.ttl), error]))

    def cancel(self, task_id: str) -> tuple[bool, str]:
        """Cancel a queued or running task; return whether it was, and its status now ('' if there is no such task)."""
        return self._transition(task_id, CANCELED, self.ttl, (QUEUED, RUNNING))

    def requeue(self, task_id: str) -> tuple[bool, str]:
        """Queue a failed or cancelled task again (to resume where it stopped); say whether it was, and its status."""
        return self._transition(task_id, QUEUED, UNFINISHED_TTL_S, tuple(RETRYABLE))

    def _transition(self, task_id: str, status: str, ttl: int, allowed: tuple[str, ...]) -> tuple[bool, str]:
        """Move a task to ``status`` if it is in one of ``allowed`` (keys then expire in ``ttl``).

        Returns whether it moved, and its status now.
        """
        moved, now = self._move(keys=[*_keys(task_id), ACTIVE], args=[status, _now(), str(ttl), *allowed])
        return bool(moved), now.decode() if isinstance(now, bytes) else str(now)

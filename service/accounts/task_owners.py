"""Who submitted each background task: a small SQLite registry beside the spool.

BentoML's task store keeps inputs and results but not who sent them; this registry does, so that
only a task's owner (or an admin) may read, cancel or retry it. It is a local file, like BentoML's
own task store, shared by the workers of one service.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Column, MetaData, String, Table, create_engine, event, insert, select
from sqlalchemy.exc import IntegrityError

from service.db.engine import apply_sqlite_pragmas

_metadata = MetaData()
_owners = Table(
    "task_owners",
    _metadata,
    Column("task_id", String(64), primary_key=True),
    Column("username", String(64), nullable=False),
)


def registry_path(spool_path: Path) -> Path:
    """Where the task registry of a service lives: beside its spool, named after it."""
    return spool_path.with_name(f"{spool_path.stem}-tasks.db")


class TaskOwners:
    """Record and look up the owner of each task id."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(self.engine, "connect", apply_sqlite_pragmas)
        _metadata.create_all(self.engine)

    def record(self, task_id: str, username: str) -> None:
        """Remember that ``username`` owns ``task_id`` (a task id is never given to two owners)."""
        try:
            with self.engine.begin() as connection:
                connection.execute(insert(_owners), {"task_id": task_id, "username": username})
        except IntegrityError as exc:
            raise ValueError(f"task {task_id!r} already has an owner") from exc

    def owner(self, task_id: str) -> str | None:
        """Return who owns ``task_id``, or None if no one is known to."""
        with self.engine.connect() as connection:
            return connection.execute(select(_owners.c.username).where(_owners.c.task_id == task_id)).scalar()

    def close(self) -> None:
        """Release the file's connections."""
        self.engine.dispose()

"""Fixtures for the service tests: a real PostgreSQL, a real model store, the real server per backend.

The HTTP tests take the ``server`` fixture, parametrized over ``sqlite`` and ``postgresql``:
each backend's server starts once for the session and every HTTP test runs against both.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.drawing import draw_number
from tests.service.harness import (
    ADMIN,
    PostgresServer,
    RedisServer,
    ServiceProcess,
    login,
    png_bytes,
    prepare_model_store,
    register,
    service_env,
)


@dataclass
class Server:
    """A running service and what the tests need to talk to it and to its database."""

    backend: str
    url: str
    database_url: str
    process: ServiceProcess
    admin_token: str
    work: Path
    postgres: PostgresServer | None = None

    def client(self, token: str | None = None) -> httpx.Client:
        """An HTTP client for this server, with a bearer token if given."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)

    def wait_for_logs(self, username: str, expected: int, timeout: float = 30) -> dict:
        """Poll the admin log until ``expected`` rows of ``username`` arrived; return that page."""
        with self.client(self.admin_token) as admin:
            deadline = time.monotonic() + timeout
            while True:
                response = admin.get("/admin/logs", params={"user": username, "page_size": 500})
                if response.status_code == 200 and response.json()["total"] >= expected:
                    return response.json()
                if time.monotonic() > deadline:
                    return response.json()
                time.sleep(0.2)

    def new_user(self) -> tuple[str, str]:
        """Register a fresh user; return ``(username, token)``."""
        username = f"user-{uuid.uuid4().hex[:10]}"
        return username, register(self.url, username, "password-" + username)


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    """A throw-away Redis server, one per test module that asks for it."""
    server = RedisServer().start()
    try:
        yield server
    finally:
        server.remove()


@pytest.fixture(scope="session")
def model_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A BentoML home holding the champion imported from a real (temporary) MLflow registry."""
    return prepare_model_store(tmp_path_factory.mktemp("model-store"))


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest, model_env: dict[str, str], tmp_path_factory) -> Iterator[Server]:
    """The real service over HTTP, once per database backend."""
    work = tmp_path_factory.mktemp(f"serve-{request.param}")
    postgres_server = None
    if request.param == "sqlite":
        database_url = f"sqlite:///{work / 'predictions.db'}"
    else:
        postgres_server = request.getfixturevalue("postgres")
        database_url = postgres_server.url()
    env = service_env(database_url, work, model_env)
    process = ServiceProcess(env, cwd=work).start()
    try:
        token = login(process.url, *ADMIN)
        yield Server(request.param, process.url, database_url, process, token, work, postgres_server)
    finally:
        process.stop()


@pytest.fixture(scope="session")
def number_png() -> bytes:
    """A drawn number as PNG bytes."""
    return png_bytes(draw_number("42.7"))


@pytest.fixture(scope="session")
def blank_png() -> bytes:
    """A blank white canvas as PNG bytes."""
    from PIL import Image

    return png_bytes(Image.new("L", (200, 80), 255))

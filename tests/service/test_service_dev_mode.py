"""Development mode with no set-up: nothing public is trusted, and only this machine is answered."""

from __future__ import annotations

import json
import os
import re
import socket
import stat
import subprocess
from concurrent.futures import ThreadPoolExecutor

import anyio
import httpx
import pytest

from service.accounts.tokens import issue_token
from service.core.config import PUBLIC_SECRETS
from service.core.dev_secrets import FILE_NAME
from service.http.loopback_guard import LoopbackGuard
from tests.service.harness import JWT_SECRET, REPO, ServiceProcess
from tests.service.test_service_auth_units import SECRET as UNIT_TEST_SECRET

PASSWORD_LINE = re.compile(r"the password of admin 'admin': (\S+)")


def tracked_text() -> str:
    """Every text file tracked in this repository, concatenated."""
    names = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout.split(b"\0")
    texts = []
    for name in filter(None, names):
        path = REPO / name.decode()
        if path.is_file() and path.stat().st_size < 2_000_000:
            texts.append(path.read_bytes().decode("utf-8", "ignore"))
    return "\n".join(texts)


@pytest.fixture
def bare_environment(monkeypatch):
    """No Digitify setting from the calling shell: the service starts as ``./scripts/run.sh`` starts it."""
    for name in list(os.environ):
        if name.startswith("DIGITIFY_") or name == "DATABASE_URL":
            monkeypatch.delenv(name)


def test_a_bare_start_generates_private_secrets_and_refuses_every_public_one(
    model_env, tmp_path, number_png, bare_environment
):
    env = dict(model_env)
    process = ServiceProcess(env, cwd=tmp_path).start()
    try:
        secrets_file = tmp_path / FILE_NAME
        assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
        printed = PASSWORD_LINE.findall(process.log_tail(200_000))
        assert len(printed) == 1, process.log_tail()
        password = printed[0]
        secret = json.loads(secrets_file.read_text())["jwt_secret"]
        assert secret not in tracked_text() and password not in tracked_text()
        login = httpx.post(f"{process.url}/auth/login", json={"username": "admin", "password": password}, timeout=30)
        assert login.status_code == 200, login.text
        admin_token = login.json()["access_token"]
        for public in {*PUBLIC_SECRETS, JWT_SECRET, UNIT_TEST_SECRET}:
            forged = issue_token(public, "admin", "admin", 600)
            response = httpx.get(
                f"{process.url}/admin/stats", headers={"authorization": f"Bearer {forged}"}, timeout=30
            )
            assert response.status_code == 401, public
        for old in ("digitify-dev-admin",):
            refused = httpx.post(f"{process.url}/auth/login", json={"username": "admin", "password": old}, timeout=30)
            assert refused.status_code == 401
    finally:
        process.stop()
    again = ServiceProcess(env, cwd=tmp_path).start()
    try:
        assert PASSWORD_LINE.findall(again.log_tail(200_000)) == []
        response = httpx.get(f"{again.url}/admin/stats", headers={"authorization": f"Bearer {admin_token}"}, timeout=30)
        assert response.status_code == 200, response.text
    finally:
        again.stop()


async def _passthrough(scope, receive, send) -> None:
    """An application that answers 200 to everything."""
    await send({"type": "http.response.start", "status": 200, "headers": []})


async def _status_for(
    guard: LoopbackGuard, client: tuple[str, int] | None, headers: list[tuple[bytes, bytes]] | None = None
) -> int:
    """Send one request through ``guard`` from ``client``; return the answer's status."""
    statuses: list[int] = []

    async def send(message) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    await guard({"type": "http", "path": "/readyz", "client": client, "headers": headers or []}, receive, send)
    return statuses[0]


@pytest.mark.parametrize(
    ("mode", "client", "status"),
    [
        ("development", ("127.0.0.1", 5000), 200),
        ("development", ("::1", 5000), 200),
        ("development", ("::ffff:127.0.0.1", 5000), 200),
        ("development", ("192.0.2.7", 5000), 403),
        ("development", ("2001:db8::1", 5000), 403),
        ("production", ("192.0.2.7", 5000), 200),
    ],
)
def test_development_mode_answers_only_this_machine(mode, client, status):
    guard = LoopbackGuard(_passthrough, mode=mode)
    with ThreadPoolExecutor(1) as thread:  # a thread of its own: the browser tests' event loop may hold this one
        assert thread.submit(anyio.run, _status_for, guard, client).result() == status


@pytest.mark.parametrize("header", [b"x-forwarded-for", b"forwarded"])
def test_development_mode_refuses_what_a_proxy_forwarded(header):
    guard = LoopbackGuard(_passthrough, mode="development")
    with ThreadPoolExecutor(1) as thread:
        status = thread.submit(anyio.run, _status_for, guard, ("127.0.0.1", 5000), [(header, b"192.0.2.7")]).result()
    assert status == 403


def this_machines_network_address() -> str:
    """An address of this machine that is not loopback (the one its default route leaves from)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the route and its source address
        return probe.getsockname()[0]


def test_development_mode_over_the_network_answers_only_this_machine(model_env, tmp_path, bare_environment):
    """A real server on every interface: loopback is served; its network address and forwarded requests are not."""
    env = dict(model_env)
    process = ServiceProcess(env, cwd=tmp_path, host="0.0.0.0").start()
    try:
        assert httpx.get(f"{process.url}/livez", timeout=30).status_code == 200
        address = this_machines_network_address()
        assert not address.startswith("127.")
        remote = httpx.get(f"http://{address}:{process.port}/livez", timeout=30)
        assert remote.status_code == 403 and "development mode" in remote.json()["error"]
        forwarded = httpx.get(f"{process.url}/livez", headers={"x-forwarded-for": "192.0.2.7"}, timeout=30)
        assert forwarded.status_code == 403
    finally:
        process.stop()


def test_run_script_binds_loopback_unless_told_otherwise():
    script = (REPO / "scripts" / "run.sh").read_text()
    assert re.search(r'bentoml serve .*--host "\$\{HOST:-127\.0\.0\.1\}"', script)

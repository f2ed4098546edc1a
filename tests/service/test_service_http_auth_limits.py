"""Limits on login and registration over real HTTP: lockout, per-address rate, field sizes, hashing pool.

Each test speaks from its own loopback address (127.0.0.N), so the per-address buckets it drains
are not those of the other tests (which come from 127.0.0.1).
"""

from __future__ import annotations

import statistics
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx

from service.accounts.throttle import ADDRESS_BURST, FAILURES_BURST
from tests.service.harness import ADMIN, ServiceProcess, service_env


def client_from(server, address: str, token: str | None = None) -> httpx.Client:
    """An HTTP client for ``server`` whose connections come from the loopback ``address``."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    transport = httpx.HTTPTransport(local_address=address)
    return httpx.Client(base_url=server.url, headers=headers, timeout=60, transport=transport)


def test_thirty_wrong_logins_in_a_row_lock_the_username_out(server):
    username, _ = server.new_user()
    password = "password-" + username
    with client_from(server, "127.0.0.2") as client:
        answers = [
            client.post("/auth/login", json={"username": username, "password": "wrong-password"}) for _ in range(30)
        ]
        statuses = [answer.status_code for answer in answers]
        assert statuses == [401] * FAILURES_BURST + [429] * (30 - FAILURES_BURST), statuses
        assert int(answers[-1].headers["retry-after"]) >= 1
        assert "too many failed logins" in answers[-1].json()["error"]
        locked = client.post("/auth/login", json={"username": username.upper(), "password": password})
        assert locked.status_code == 429
        other, _ = server.new_user()
        assert client.post("/auth/login", json={"username": other, "password": "password-" + other}).status_code == 200
    with client_from(server, "127.0.0.5") as owner:  # the lockout slows the guessing address, not the owner
        assert owner.post("/auth/login", json={"username": username, "password": password}).status_code == 200


def test_nobody_can_lock_the_admin_out(server):
    with client_from(server, "127.0.0.6") as guesser:
        statuses = [
            guesser.post("/auth/login", json={"username": ADMIN[0], "password": f"guess-{i}"}).status_code
            for i in range(50)
        ]
    assert statuses == [401] * FAILURES_BURST + [429] * (50 - FAILURES_BURST), statuses
    with client_from(server, "127.0.0.7") as admin:
        answer = admin.post("/auth/login", json={"username": ADMIN[0], "password": ADMIN[1]})
        assert answer.status_code == 200, answer.text


def test_one_address_is_limited_and_others_are_not(server):
    def attempt(index: int) -> httpx.Response:
        name = f"nobody-{uuid.uuid4().hex[:8]}"
        with client_from(server, "127.0.0.3") as flood:
            if index % 2:
                return flood.post("/auth/register", json={"username": name, "password": "short"})
            return flood.post("/auth/login", json={"username": name, "password": "x" * 9})

    with ThreadPoolExecutor(max_workers=40) as pool:
        answers = list(pool.map(attempt, range(ADDRESS_BURST * 3)))
    statuses = [answer.status_code for answer in answers]
    assert set(statuses) <= {400, 401, 429, 503}, statuses
    refused = [answer for answer in answers if answer.status_code == 429]
    assert {answer.request.url.path for answer in refused} == {"/auth/login", "/auth/register"}, statuses
    assert all("from your address" in answer.json()["error"] for answer in refused)
    assert all(int(answer.headers["retry-after"]) >= 1 for answer in refused)
    username, _ = server.new_user()
    with server.client() as client:
        assert client.post("/auth/login", json={"username": username, "password": "password-" + username}).is_success


def test_oversized_credentials_are_refused_before_hashing(server):
    with client_from(server, "127.0.0.4") as client:
        long_password = client.post("/auth/login", json={"username": "someone", "password": "p" * 2000})
        assert long_password.status_code == 422 and "password" in long_password.json()["error"]
        long_name = client.post("/auth/register", json={"username": "u" * 200, "password": "p" * 10})
        assert long_name.status_code == 422 and "username" in long_name.json()["error"]
        huge = client.post(
            "/auth/login",
            content=b'{"username": "' + b"u" * 100_000 + b'"}',
            headers={"content-type": "application/json"},
        )
        assert huge.status_code == 413 and "limit" in huge.json()["error"]


def test_a_login_storm_does_not_starve_predictions(server, number_png):
    _, token = server.new_user()
    stop = threading.Event()

    def storm(index: int) -> int:
        sent = 0
        with client_from(server, f"127.0.1.{index + 1}") as client:
            while not stop.is_set():
                client.post("/auth/login", json={"username": f"storm-{uuid.uuid4().hex}", "password": "wrong-pw"})
                sent += 1
        return sent

    with ThreadPoolExecutor(max_workers=40) as pool:
        storms = [pool.submit(storm, index) for index in range(40)]
        time.sleep(1.0)
        latencies = []
        with server.client(token) as client:
            for _ in range(5):
                started = time.perf_counter()
                assert client.post("/predict", files={"image": ("n.png", number_png)}).status_code == 200
                latencies.append(time.perf_counter() - started)
        stop.set()
        sent = sum(future.result() for future in storms)
    assert sent >= 40
    assert statistics.median(latencies) < 3.0 and max(latencies) < 6.0, latencies


def test_a_forwarded_header_does_not_choose_the_clients_address(model_env, tmp_path):
    """From 127.0.0.1 (a proxy uvicorn would trust by default), 150 attempts each claiming another address
    share the one address bucket: no proxy is trusted unless ``DIGITIFY_TRUSTED_PROXIES`` names it.

    A server of its own, since this drains 127.0.0.1's bucket, which the other tests use.
    """
    env = service_env(f"sqlite:///{tmp_path / 'log.db'}", tmp_path, model_env)
    process = ServiceProcess(env, cwd=tmp_path).start()
    try:
        with httpx.Client(base_url=process.url, timeout=60) as client:
            answers = [
                client.post(
                    "/auth/register",
                    json={"username": f"nobody-{i}", "password": "short"},
                    headers={"x-forwarded-for": f"198.51.100.{i}"},
                )
                for i in range(ADDRESS_BURST + 50)
            ]
    finally:
        process.stop()
    statuses = [answer.status_code for answer in answers]
    assert statuses.count(429) >= 45, statuses
    assert all("from your address" in answer.json()["error"] for answer in answers if answer.status_code == 429)

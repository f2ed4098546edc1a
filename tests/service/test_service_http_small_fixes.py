"""The smaller holes of issue 12 over real HTTP: headers, metrics, paging, case, admin bootstrap, revocation."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.service.harness import ServiceProcess, login, service_env


@pytest.mark.parametrize("path", ["/", "/readyz", "/docs", "/predict", "/auth/me", "/no/such/route"])
def test_every_answer_carries_the_security_headers(server, path):
    with server.client() as client:
        response = client.get(path) if path != "/predict" else client.post(path)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert ("'unsafe-inline'" in policy) == (path == "/docs")


def test_metrics_are_for_admins_only(server, number_png):
    _, token = server.new_user()
    with server.client() as anonymous, server.client(token) as user, server.client(server.admin_token) as admin:
        assert user.post("/predict", files={"image": ("n.png", number_png, "image/png")}).status_code == 200
        assert anonymous.get("/metrics").status_code == 401
        assert user.get("/metrics").status_code == 403
        metrics = admin.get("/metrics")
        assert metrics.status_code == 200 and "bentoml" in metrics.text
        for histogram in ("digitify_inference_batch_size", "digitify_inference_queue_seconds"):
            counted = [line for line in metrics.text.splitlines() if line.startswith(f"{histogram}_count")]
            assert counted and float(counted[0].split()[-1]) >= 1, histogram  # the batch read above


@pytest.mark.parametrize("page", [10**6 + 1, 10**15, 10**30])
def test_absurd_pages_are_a_readable_422(server, page):
    with server.client(server.admin_token) as admin:
        response = admin.get("/admin/logs", params={"page": page})
        assert response.status_code == 422 and "page" in response.json()["error"], response.text
        assert admin.get("/admin/logs", params={"page": 10**6}).json()["items"] == []


def test_usernames_differing_only_in_case_are_one_account(server):
    name = f"Case-User-{uuid.uuid4().hex[:6]}"
    with server.client() as client:
        created = client.post("/auth/register", json={"username": name, "password": "password-one"})
        assert created.status_code == 201 and created.json()["username"] == name.lower()
        twin = client.post("/auth/register", json={"username": name.lower(), "password": "password-two"})
        assert twin.status_code == 409
        shouting = client.post("/auth/login", json={"username": name.upper(), "password": "password-one"})
        assert shouting.status_code == 200
    with server.client(shouting.json()["access_token"]) as client:
        assert client.get("/auth/me").json()["username"] == name.lower()


def test_the_environment_owns_the_admin_account(model_env, tmp_path):
    """A squatted admin name, then a rotated admin password: old passwords and old tokens stop working."""
    database = f"sqlite:///{tmp_path / 'accounts.db'}"
    base = service_env(database, tmp_path, model_env)
    base.pop("DIGITIFY_ADMIN_USERNAME")
    base.pop("DIGITIFY_ADMIN_PASSWORD")

    def serving(**admin: str) -> ServiceProcess:
        return ServiceProcess({**base, **admin}, cwd=tmp_path).start()

    def status(process: ServiceProcess, token: str) -> int:
        return httpx.get(f"{process.url}/auth/me", headers={"authorization": f"Bearer {token}"}, timeout=30).status_code

    def can_log_in(process: ServiceProcess, password: str) -> bool:
        answer = httpx.post(f"{process.url}/auth/login", json={"username": "Boss", "password": password}, timeout=30)
        return answer.status_code == 200

    process = serving()
    try:
        registered = httpx.post(
            f"{process.url}/auth/register", json={"username": "boss", "password": "squatter-pw"}, timeout=30
        )
        assert registered.status_code == 201
        squatter_token = login(process.url, "boss", "squatter-pw")
    finally:
        process.stop()
    process = serving(DIGITIFY_ADMIN_USERNAME="boss", DIGITIFY_ADMIN_PASSWORD="first-admin-pw")
    try:
        assert status(process, squatter_token) == 401
        assert not can_log_in(process, "squatter-pw")
        first_token = login(process.url, "boss", "first-admin-pw")
        assert httpx.get(f"{process.url}/admin/stats", headers={"authorization": f"Bearer {first_token}"}).is_success
    finally:
        process.stop()
    process = serving(DIGITIFY_ADMIN_USERNAME="boss", DIGITIFY_ADMIN_PASSWORD="second-admin-pw")
    try:
        assert status(process, first_token) == 401
        assert not can_log_in(process, "first-admin-pw")
        assert can_log_in(process, "second-admin-pw")
    finally:
        process.stop()

"""Authentication over real HTTP: every forged, stale or missing credential is refused."""

from __future__ import annotations

import base64
import json
import time

import httpx
import jwt
import pytest

from service.accounts.tokens import issue_token
from tests.service.harness import JWT_SECRET


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def claims(username: str, role: str = "admin", **changes) -> dict:
    now = int(time.time())
    return {"sub": username, "role": role, "iss": "digitify", "iat": now, "exp": now + 600, **changes}


def predict(server, number_png: bytes, headers: dict) -> httpx.Response:
    with httpx.Client(base_url=server.url, timeout=60) as client:
        return client.post("/predict", files={"image": ("n.png", number_png)}, headers=headers)


def test_register_login_and_me(server):
    username, token = server.new_user()
    with server.client(token) as client:
        assert client.get("/auth/me").json() == {"username": username, "role": "user"}
    with server.client() as client:
        login = client.post("/auth/login", json={"username": username, "password": "password-" + username})
        assert login.status_code == 200
        body = login.json()
        assert body["token_type"] == "bearer" and body["expires_in"] > 0
        assert jwt.get_unverified_header(body["access_token"])["alg"] == "HS256"
        assert client.post("/auth/register", json={"username": username, "password": "whatever-1"}).status_code == 409
        assert client.post("/auth/login", json={"username": username, "password": "wrong-password"}).status_code == 401
        assert client.post("/auth/login", json={"username": "nobody-here", "password": "x" * 10}).status_code == 401
        assert client.post("/auth/register", json={"username": "a", "password": "long-enough"}).status_code == 400
        assert client.post("/auth/register", json={"username": "short-pw", "password": "x"}).status_code == 400
        assert client.post("/auth/register", json={"username": "no-password"}).status_code == 422


@pytest.mark.parametrize(
    "forge",
    [
        "missing",
        "not bearer",
        "garbage",
        "tampered",
        "alg none",
        "HS512",
        "other secret",
        "expired",
        "unknown user",
        "wrong issuer",
    ],
)
def test_forged_or_stale_tokens_are_refused(server, number_png, forge):
    username, token = server.new_user()
    header, _payload, signature = token.split(".")
    forged = {
        "missing": None,
        "not bearer": f"Basic {token}",
        "garbage": "Bearer abc.def.ghi",
        "tampered": f"Bearer {header}.{b64(claims(username))}.{signature}",
        "alg none": f"Bearer {b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims('admin'))}.",
        "HS512": f"Bearer {jwt.encode(claims('admin'), JWT_SECRET + 'x' * 20, algorithm='HS512')}",
        "other secret": f"Bearer {issue_token('not-the-server-secret-' + 'y' * 30, 'admin', 'admin', 600)}",
        "expired": f"Bearer {issue_token(JWT_SECRET, username, 'user', 60, now=time.time() - 7200)}",
        "unknown user": f"Bearer {issue_token(JWT_SECRET, 'ghost-user', 'admin', 600)}",
        "wrong issuer": f"Bearer {jwt.encode(claims(username, iss='evil'), JWT_SECRET, algorithm='HS256')}",
    }[forge]
    headers = {} if forged is None else {"Authorization": forged}
    response = predict(server, number_png, headers)
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"].startswith("Bearer")
    with httpx.Client(base_url=server.url, timeout=30) as client:
        assert client.get("/admin/logs", headers=headers).status_code == 401
    assert predict(server, number_png, {"Authorization": f"Bearer {token}"}).status_code == 200


def test_role_comes_from_the_server_not_the_token(server):
    username, _ = server.new_user()
    self_promoted = issue_token("wrong-secret-" + "z" * 40, username, "admin", 600)
    user_token_claiming_admin = issue_token(JWT_SECRET, username, "admin", 600)  # as if the secret leaked
    with httpx.Client(base_url=server.url, timeout=30) as client:
        assert client.get("/admin/stats", headers={"Authorization": f"Bearer {self_promoted}"}).status_code == 401
        response = client.get("/admin/stats", headers={"Authorization": f"Bearer {user_token_claiming_admin}"})
        assert response.status_code == 403


def test_users_get_403_on_admin_routes_and_admins_get_in(server):
    _, token = server.new_user()
    with server.client(token) as client:
        for path in ("/admin/logs", "/admin/stats"):
            response = client.get(path)
            assert response.status_code == 403 and "admin" in response.json()["error"]
    with server.client(server.admin_token) as client:
        assert client.get("/admin/stats").status_code == 200


def test_unknown_routes_need_a_token(server):
    with server.client() as client:
        assert client.get("/predict_async/get", params={"task_id": "x"}).status_code == 401
        assert client.get("/anything/else").status_code == 401

"""Stopping a hostile user over real HTTP: an admin disables an account, its tokens stop at once."""

from __future__ import annotations

import httpx


def login(server, username: str, password: str) -> httpx.Response:
    """Log in; return the response."""
    with server.client() as client:
        return client.post("/auth/login", json={"username": username, "password": password})


def test_an_admin_disables_and_enables_an_account(server, number_png):
    username, token = server.new_user()
    password = "password-" + username
    with server.client(token) as user:
        assert user.post("/predict", files={"image": ("n.png", number_png, "image/png")}).status_code == 200
        assert user.post(f"/admin/users/{username}/disable").status_code == 403  # admins only
    with server.client(server.admin_token) as admin:
        disabled = admin.post(f"/admin/users/{username}/disable")
        assert disabled.status_code == 200, disabled.text
        assert disabled.json() == {"username": username, "role": "user", "is_active": False, "created_at": None}
        listed = {item["username"]: item for item in admin.get("/admin/users").json()["items"]}
        assert listed[username]["is_active"] is False and listed["admin"]["is_active"] is True
    with server.client(token) as user:  # at once: no wait for the account cache
        refused = user.post("/predict", files={"image": ("n.png", number_png, "image/png")})
        assert refused.status_code == 401, refused.text
        assert user.get("/auth/me").status_code == 401
    assert login(server, username, password).status_code == 401
    with server.client(server.admin_token) as admin:
        assert admin.post(f"/admin/users/{username}/enable").json()["is_active"] is True
    with server.client(token) as user:
        assert user.get("/auth/me").status_code == 401  # tokens from before stay revoked
    again = login(server, username, password)
    assert again.status_code == 200
    with server.client(again.json()["access_token"]) as user:
        assert user.get("/auth/me").json()["username"] == username


def test_an_admin_cannot_disable_themselves_or_a_stranger(server):
    with server.client(server.admin_token) as admin:
        own = admin.post("/admin/users/ADMIN/disable")
        assert own.status_code == 409 and "your own account" in own.json()["error"]
        assert admin.post("/admin/users/nobody-at-all/disable").status_code == 404
        assert admin.get("/auth/me").status_code == 200

"""Stop the real PostgreSQL mid-run: predictions still answer, and every log row arrives once it is back."""

from __future__ import annotations

import time

import pytest

# The outage is staged by stopping the real PostgreSQL server, so only that backend runs here.
pytestmark = pytest.mark.parametrize("server", ["postgresql"], indirect=True)


def test_no_row_is_lost_when_postgresql_goes_down(server, number_png, blank_png):
    username, token = server.new_user()
    log_ids = []
    with server.client(token) as client, server.client(server.admin_token) as admin:

        def predict(image: bytes, expected: int) -> None:
            response = client.post("/predict", files={"image": ("n.png", image)})
            assert response.status_code == expected, response.text
            log_ids.append(response.json()["log_id"])

        for _ in range(3):
            predict(number_png, 200)
        assert admin.get("/admin/stats").status_code == 200
        server.postgres.stop()
        try:
            time.sleep(2.5)  # past the account cache's freshness: the stale entry must carry the user through
            for i in range(12):
                predict(blank_png if i % 4 == 0 else number_png, 422 if i % 4 == 0 else 200)
            down = admin.get("/admin/logs")
            assert down.status_code == 503 and "unavailable" in down.json()["error"]
            assert client.post("/auth/login", json={"username": username, "password": "x" * 10}).status_code == 503
            assert admin.get("/admin/logs").status_code == 503
        finally:
            server.postgres.start()
        for _ in range(3):
            predict(number_png, 200)
    rows = server.wait_for_logs(username, len(log_ids), timeout=60)["items"]
    assert sorted(row["id"] for row in rows) == sorted(log_ids)
    assert sum(row["outcome"] == "rejected" for row in rows) == 3


def test_rows_spooled_before_a_restart_are_delivered_after_it(server, number_png):
    username, token = server.new_user()
    with server.client(token) as client:
        assert client.post("/predict", files={"image": ("n.png", number_png)}).status_code == 200
        server.postgres.stop()
        try:
            log_ids = [
                client.post("/predict", files={"image": ("n.png", number_png)}).json()["log_id"] for _ in range(5)
            ]
            server.process.stop()
        finally:
            server.postgres.start()
    server.process.start()
    rows = server.wait_for_logs(username, 6, timeout=60)["items"]
    assert set(log_ids) <= {row["id"] for row in rows} and len(rows) == 6

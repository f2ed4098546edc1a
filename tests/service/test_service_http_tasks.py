"""Background tasks over real HTTP: only their owner (or an admin) may see, cancel or retry them."""

from __future__ import annotations

import time

import httpx


def wait_until_done(client: httpx.Client, task_id: str) -> str:
    """Poll a task's status until it is no longer running; return it."""
    deadline = time.monotonic() + 60
    while True:
        status = client.get("/predict_async/status", params={"task_id": task_id})
        assert status.status_code == 200, status.text
        if status.json()["status"] not in ("pending", "in_progress"):
            return status.json()["status"]
        assert time.monotonic() < deadline, status.text
        time.sleep(0.2)


def test_another_users_task_is_refused_and_a_finished_task_is_not_run_again(server, number_png):
    _, owner_token = server.new_user()
    _, other_token = server.new_user()
    files = [("images", (f"{i}.png", number_png)) for i in range(3)]
    with server.client(owner_token) as owner, server.client(other_token) as other:
        submitted = owner.post("/predict_async/submit", files=files)
        assert submitted.status_code == 200, submitted.text
        task_id = submitted.json()["task_id"]
        for method, path in (("GET", "status"), ("GET", "get"), ("POST", "retry"), ("PUT", "cancel")):
            refused = other.request(method, f"/predict_async/{path}", params={"task_id": task_id})
            assert refused.status_code == 404, (path, refused.text)
            assert "not found" in refused.json()["error"]
        assert wait_until_done(owner, task_id) == "completed"
        result = owner.get("/predict_async/get", params={"task_id": task_id})
        assert result.status_code == 200 and result.json()["count"] == 3
        assert other.get("/predict_async/get", params={"task_id": task_id}).status_code == 404
        for _ in range(3):
            again = owner.post("/predict_async/retry", params={"task_id": task_id})
            assert again.status_code == 409 and "is completed: only a failed or cancelled task" in again.json()["error"]
        assert owner.get("/predict_async/status", params={"task_id": "no-such-task"}).status_code == 404
        assert owner.get("/predict_async/status").status_code == 400
    with server.client(server.admin_token) as admin:
        assert admin.get("/predict_async/get", params={"task_id": task_id}).json()["count"] == 3

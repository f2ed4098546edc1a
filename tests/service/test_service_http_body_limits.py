"""One body limit for every route, over real HTTP: a large body is refused (413) before it is read whole.

The bodies are sent on a raw socket, as an attacker would: a declared length far over the limit,
and a chunked body with no declared length, which the server must stop reading by itself.
"""

from __future__ import annotations

import select
import socket
from urllib.parse import urlsplit

import psutil
import pytest

from service.http.request_guard import OTHER_BODY_LIMIT

TEN_MB = 10 * 1024 * 1024


def service_rss(server) -> int:
    """Resident memory of the service's processes (the server, its workers and inference processes), in bytes."""
    root = psutil.Process(server.process.process.pid)
    return sum(process.memory_info().rss for process in [root, *root.children(recursive=True)])


def raw_post(url: str, path: str, token: str, body_size: int, chunked: bool) -> tuple[int, bytes]:
    """POST ``body_size`` bytes of a JSON-looking body; stop sending once the server answers; return its answer."""
    parts = urlsplit(url)
    framing = b"transfer-encoding: chunked" if chunked else f"content-length: {body_size}".encode()
    head = (
        (
            f"POST {path} HTTP/1.1\r\nhost: {parts.hostname}\r\nauthorization: Bearer {token}\r\n"
            "content-type: application/json\r\nconnection: close\r\n"
        ).encode()
        + framing
        + b"\r\n\r\n"
    )
    piece = b'{"log_id": "' + b"x" * (64 * 1024 - 14) + b'"}'
    answer = b""
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as connection:
        connection.sendall(head)
        sent = 0
        while sent < body_size:
            if select.select([connection], [], [], 0)[0]:
                break  # the server answered before the whole body was sent
            chunk = piece[: body_size - sent]
            try:
                connection.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
            except OSError:
                break
            sent += len(chunk)
        if chunked and sent >= body_size:
            connection.sendall(b"0\r\n\r\n")
        while True:
            try:
                data = connection.recv(65536)
            except OSError:
                break
            if not data:
                break
            answer += data
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else 0
    return status, answer.partition(b"\r\n\r\n")[2]


@pytest.mark.parametrize("chunked", [False, True], ids=["declared", "chunked"])
@pytest.mark.parametrize("path", ["/corrections", "/admin/corrections/some-id/accept"])
def test_ten_megabytes_to_a_json_route_are_refused_without_being_read(server, path, chunked):
    _, token = server.new_user()
    before = service_rss(server)
    status, body = raw_post(server.url, path, server.admin_token if "admin" in path else token, TEN_MB, chunked)
    assert status == 413, body
    assert b"larger than this route takes" in body
    assert service_rss(server) - before < 20 * 1024 * 1024
    with server.client(token) as client:  # the service goes on
        assert client.get("/auth/me").status_code == 200


def test_a_body_within_the_limit_still_reaches_the_route(server):
    _, token = server.new_user()
    status, body = raw_post(server.url, "/corrections", token, OTHER_BODY_LIMIT - 1024, chunked=True)
    assert status == 422, body  # read whole and answered by the route itself (the JSON is cut short)

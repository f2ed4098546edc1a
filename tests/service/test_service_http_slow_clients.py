"""Slow clients over real HTTP: they cannot take the service from signed-in users, and are cut off.

256 connections from eight loopback addresses send ``POST /auth/login`` headers that announce a
4,000-byte body, then one byte of it, and wait: the slowloris pattern that once filled BentoML's
whole concurrency limit (every route then answered 429).
"""

from __future__ import annotations

import socket
import time

from service.http.admission import MAX_IN_FLIGHT_PER_CLIENT, MAX_PUBLIC_IN_FLIGHT
from service.http.request_guard import BODY_IDLE_S

ADDRESSES = [f"127.0.0.{n}" for n in range(20, 28)]
CONNECTIONS = 256


def slow_login(url_port: int, address: str) -> socket.socket:
    """A connection from ``address`` that sends login headers announcing 4,000 bytes of body, then one byte."""
    connection = socket.create_connection(("127.0.0.1", url_port), timeout=60, source_address=(address, 0))
    connection.sendall(
        b"POST /auth/login HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n"
        b"content-length: 4000\r\n\r\n{"
    )
    return connection


def answer_of(connection: socket.socket, deadline: float) -> tuple[int, bytes, float]:
    """Read until the server closes the connection: its status, headers and when it closed (0 if it did not)."""
    received = b""
    while time.monotonic() < deadline:
        connection.settimeout(max(0.1, deadline - time.monotonic()))
        try:
            data = connection.recv(65536)
        except TimeoutError:
            break
        except OSError:
            return _status(received), received, time.monotonic()
        if not data:
            return _status(received), received, time.monotonic()
        received += data
    return _status(received), received, 0.0


def _status(received: bytes) -> int:
    """The status code of a raw HTTP answer (0 if none)."""
    return int(received.split(b" ", 2)[1]) if received.startswith(b"HTTP/1.1 ") else 0


def test_slow_public_clients_leave_room_for_signed_in_users_and_are_cut_off(server, number_png):
    _, token = server.new_user()
    port = int(server.url.rsplit(":", 1)[1])
    opened = time.monotonic()
    connections = [slow_login(port, ADDRESSES[i % len(ADDRESSES)]) for i in range(CONNECTIONS)]
    try:
        time.sleep(1)
        with server.client(token) as client:
            started = time.perf_counter()
            answer = client.post("/predict", files={"image": ("n.png", number_png, "image/png")})
            took = time.perf_counter() - started
            assert answer.status_code == 200, answer.text
            assert took < 2.0, took
            assert client.get("/auth/me").status_code == 200
        answers = [answer_of(connection, opened + 30) for connection in connections]
    finally:
        for connection in connections:
            connection.close()
    statuses = [status for status, _, _ in answers]
    assert all(closed for _, _, closed in answers), "a slow connection was still open after 30 s"
    assert statuses.count(408) <= MAX_PUBLIC_IN_FLIGHT, statuses
    assert statuses.count(408) >= min(MAX_PUBLIC_IN_FLIGHT, MAX_IN_FLIGHT_PER_CLIENT), statuses
    assert set(statuses) == {408, 429}, statuses
    timed_out = [closed - opened for status, _, closed in answers if status == 408]
    assert min(timed_out) >= BODY_IDLE_S - 1
    refused = [raw.lower() for status, raw, _ in answers if status == 429]
    assert all(b"retry-after: 1" in raw and b"x-content-type-options: nosniff" in raw for raw in refused)

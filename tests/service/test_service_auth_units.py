"""Tokens: only valid HS256 tokens of this server pass; passwords are argon2id hashes."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest

from service.accounts.tokens import (
    AuthError,
    CredentialsFormatError,
    VerifiedTokens,
    check_password,
    check_username,
    decode_token,
    hash_password,
    issue_token,
    verify_password,
)

SECRET = "unit-secret-" + "z" * 60


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_a_fresh_token_decodes():
    claims = decode_token(SECRET, issue_token(SECRET, "ada", "admin", 60))
    assert (claims.username, claims.role) == ("ada", "admin")


def test_expired_token_is_refused():
    token = issue_token(SECRET, "ada", "user", 60, now=time.time() - 3600)
    with pytest.raises(AuthError, match="expired"):
        decode_token(SECRET, token)


def test_a_verified_token_is_reused_until_it_expires_and_a_refused_one_is_never_kept():
    now = [time.time()]
    tokens = VerifiedTokens(SECRET, max_tokens=2, clock=lambda: now[0])
    token = issue_token(SECRET, "ada", "user", 60)
    first = tokens.decode(token)
    assert tokens.decode(token) is first  # the cached claims: no second signature check
    now[0] += 61
    with pytest.raises(AuthError, match="expired"):
        tokens.decode(token)
    forged = issue_token("another-secret-" + "q" * 40, "ada", "admin", 60)
    for _ in range(2):
        with pytest.raises(AuthError, match="signature"):
            tokens.decode(forged)
    now[0] = time.time()
    for name in ("bo", "cy", "di"):
        tokens.decode(issue_token(SECRET, name, "user", 60))
    assert len(tokens._claims) == 2  # bounded: the least recently used went first


def test_token_from_another_secret_is_refused():
    with pytest.raises(AuthError, match="signature"):
        decode_token(SECRET, issue_token("another-secret-" + "q" * 40, "ada", "admin", 60))


def test_tampered_payload_is_refused():
    header, payload, signature = issue_token(SECRET, "ada", "user", 60).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["role"] = "admin"
    with pytest.raises(AuthError):
        decode_token(SECRET, f"{header}.{_b64(claims)}.{signature}")


def test_alg_none_is_refused():
    now = int(time.time())
    claims = {"sub": "ada", "role": "admin", "iss": "digitify", "iat": now, "exp": now + 60}
    token = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    with pytest.raises(AuthError, match="algorithm"):
        decode_token(SECRET, token)


def test_other_hmac_algorithm_is_refused():
    now = int(time.time())
    claims = {"sub": "ada", "role": "admin", "iss": "digitify", "iat": now, "exp": now + 60}
    with pytest.raises(AuthError, match="algorithm"):
        decode_token(SECRET, jwt.encode(claims, SECRET, algorithm="HS512"))


def test_missing_claims_and_wrong_issuer_are_refused():
    now = int(time.time())
    with pytest.raises(AuthError):
        decode_token(SECRET, jwt.encode({"sub": "ada", "role": "user", "iat": now}, SECRET, algorithm="HS256"))
    claims = {"sub": "ada", "role": "user", "iss": "elsewhere", "iat": now, "exp": now + 60}
    with pytest.raises(AuthError):
        decode_token(SECRET, jwt.encode(claims, SECRET, algorithm="HS256"))


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c", "Bearer x"])
def test_garbage_is_refused(token):
    with pytest.raises(AuthError):
        decode_token(SECRET, token)


def test_passwords_are_salted_argon2id_hashes():
    first, second = hash_password("correct horse"), hash_password("correct horse")
    assert first.startswith("$argon2id$") and first != second
    assert verify_password(first, "correct horse")
    assert not verify_password(first, "wrong horse")
    assert not verify_password(None, "correct horse")
    assert not verify_password("not-a-hash", "correct horse")


def test_credential_rules():
    assert check_username("ada.lovelace-1") == "ada.lovelace-1"
    for bad in ("ab", "x" * 65, "ada lovelace", "ada';--"):
        with pytest.raises(CredentialsFormatError):
            check_username(bad)
    with pytest.raises(CredentialsFormatError):
        check_password("short")


def test_a_cached_account_stands_in_for_the_database_only_so_long(monkeypatch):
    from sqlalchemy.exc import OperationalError

    import service.accounts.users as users_module
    from service.accounts.users import Account, UserDirectory, UserStoreUnavailableError

    class FlakyStore:
        """Answers once, then the database is down."""

        def __init__(self) -> None:
            self.calls = 0

        def get(self, username: str) -> Account:
            self.calls += 1
            if self.calls > 1:
                raise OperationalError("select", {}, Exception("down"))
            return Account(username=username, role="user", is_active=True)

    clock = [1000.0]
    monkeypatch.setattr(users_module.time, "monotonic", lambda: clock[0])
    directory = UserDirectory(FlakyStore(), ttl=10)
    assert directory.lookup("ada").username == "ada"
    clock[0] += 60  # stale, database down: the cached account still answers
    assert directory.lookup("ada").username == "ada"
    clock[0] += users_module.MAX_STALE_SECONDS  # too old to stand in any longer
    with pytest.raises(UserStoreUnavailableError):
        directory.lookup("ada")


def test_the_seventeenth_waiting_password_hash_is_told_to_come_back():
    """16 attempts may wait for the hashing thread; one more is refused (503) instead of queueing without end."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    import anyio

    from service.accounts.throttle import MAX_HASHES_WAITING, AuthThrottle, ThrottledError

    throttle = AuthThrottle()
    release = threading.Event()
    outcomes: list[str] = []

    async def attempt() -> None:
        try:
            await throttle.hash_off_the_main_pool(release.wait, 30)
            outcomes.append("hashed")
        except ThrottledError as exc:
            outcomes.append(f"{exc.status}")

    async def storm() -> None:
        async with anyio.create_task_group() as group:
            for _ in range(1 + MAX_HASHES_WAITING):  # one hashing, sixteen waiting
                group.start_soon(attempt)
            await anyio.sleep(0.5)
            await attempt()  # the seventeenth waiting
            release.set()

    # On a thread of its own: the browser tests' Playwright may hold this thread's event loop.
    with ThreadPoolExecutor(1) as thread:
        thread.submit(anyio.run, storm).result()
    assert outcomes.count("503") == 1 and outcomes.count("hashed") == 1 + MAX_HASHES_WAITING, outcomes

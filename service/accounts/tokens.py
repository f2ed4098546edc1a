"""Passwords (argon2id) and access tokens (HS256 JWTs): the security primitives, no I/O.

Tokens carry the username (``sub``), role, the account's token version (``ver``: a password
change makes older tokens stale), issue and expiry times; decoding accepts HS256
only, with the issuer and all those claims required, so ``alg: none``, other algorithms,
tampered signatures and expired tokens are all refused.
"""

from __future__ import annotations

import re
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

ALGORITHM = "HS256"
ISSUER = "digitify"
MAX_USERNAME_LENGTH = 64
USERNAME_PATTERN = re.compile(r"[A-Za-z0-9_.-]{3,64}")
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("digitify-timing-equalizer")


class AuthError(Exception):
    """A request's credentials are missing or invalid; the message says why (safe to show)."""


class CredentialsFormatError(ValueError):
    """A username or password does not meet the rules; the message says which rule."""


@dataclass(frozen=True)
class Claims:
    """What a valid token says about its bearer."""

    username: str
    role: str
    expires_at: int
    version: int = 0


def check_username(username: str) -> str:
    """Return ``username`` if it is 3-64 letters, digits, ``_``, ``.`` or ``-``; else raise."""
    if not USERNAME_PATTERN.fullmatch(username):
        raise CredentialsFormatError("a username is 3 to 64 characters: letters, digits, '_', '.' or '-'")
    return username


def check_password(password: str) -> str:
    """Return ``password`` if its length is within the rules; else raise."""
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise CredentialsFormatError(f"a password is {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters long")
    return password


def hash_password(password: str) -> str:
    """Hash a password with argon2id (salted; parameters stored in the hash)."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches ``password_hash``; with no hash, spend the same time and say no."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def issue_token(
    secret: str, username: str, role: str, ttl_seconds: int, now: float | None = None, version: int = 0
) -> str:
    """Sign an access token for ``username`` (at token version ``version``) valid for ``ttl_seconds``."""
    issued = int(time.time() if now is None else now)
    payload = {
        "sub": username,
        "role": role,
        "iss": ISSUER,
        "iat": issued,
        "nbf": issued,
        "exp": issued + ttl_seconds,
        "jti": uuid.uuid4().hex,
        "ver": version,
    }
    return jwt.encode(payload, secret, algorithm=ALGORITHM)


def decode_token(secret: str, token: str) -> Claims:
    """Check a token's algorithm, signature, issuer and times; return its claims or raise AuthError."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError as exc:
        raise AuthError("malformed token") from exc
    if header.get("alg") != ALGORITHM:
        raise AuthError(f"token algorithm must be {ALGORITHM}")
    try:
        payload = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["sub", "role", "iss", "iat", "exp"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise AuthError("token expired") from exc
    except jwt.InvalidSignatureError as exc:
        raise AuthError("invalid token signature") from exc
    except jwt.InvalidTokenError as exc:
        raise AuthError(f"invalid token: {exc}") from exc
    username, role, version = payload.get("sub"), payload.get("role"), payload.get("ver", 0)
    if not isinstance(username, str) or not isinstance(role, str) or type(version) is not int:
        raise AuthError("invalid token claims")
    return Claims(username=username, role=role, expires_at=int(payload["exp"]), version=version)


class VerifiedTokens:
    """Tokens already checked, kept until they expire, so a client's next request skips the signature check.

    Only the outcome of ``decode_token`` is remembered (a refused token never is); expiry is
    checked again on every use. Revocation is unaffected: the caller still compares the token's
    version with the account's. Bounded (least recently used first out); used from the event loop.
    """

    def __init__(
        self, secret: str, max_tokens: int = 4096, max_token_chars: int = 2048, clock: Callable[[], float] = time.time
    ) -> None:
        self.secret = secret
        self.max_tokens = max_tokens
        self.max_token_chars = max_token_chars
        self.clock = clock
        self._claims: OrderedDict[str, Claims] = OrderedDict()

    def decode(self, token: str) -> Claims:
        """The token's claims, from the cache while it is unexpired, else from ``decode_token``."""
        claims = self._claims.get(token)
        if claims is not None:
            if claims.expires_at <= self.clock():
                del self._claims[token]
                raise AuthError("token expired")
            self._claims.move_to_end(token)
            return claims
        claims = decode_token(self.secret, token)
        if len(token) <= self.max_token_chars:
            self._claims[token] = claims
            if len(self._claims) > self.max_tokens:
                self._claims.popitem(last=False)
        return claims

"""Accounts in the database, and a short-lived cache of them for checking every request.

Usernames are case-insensitive: new accounts are stored lower-case and every lookup compares
lower-case, so ``Ada`` and ``ada`` are one account. Changing a password bumps the account's token
version, which makes every token issued before the change stale.

The cache lets predictions go on while the database is down: a user seen in the last
``ttl`` seconds is served from memory, and a stale entry is used rather than failing the
request if the database cannot be reached.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from service.accounts.tokens import check_password, check_username, hash_password, verify_password
from service.db.tables import ROLE_ADMIN, ROLE_USER, ROLES, User


class UserExistsError(ValueError):
    """The username is already taken."""


class UserStoreUnavailableError(RuntimeError):
    """The database holding the accounts cannot be reached and nothing is cached."""


@dataclass(frozen=True)
class Account:
    """What the service needs to know about a user on each request."""

    username: str
    role: str
    is_active: bool
    token_version: int = 0

    @property
    def is_admin(self) -> bool:
        """Whether this account may use the admin routes."""
        return self.role == ROLE_ADMIN


def _account(user: User) -> Account:
    """Return the cacheable view of a User row."""
    return Account(username=user.username, role=user.role, is_active=user.is_active, token_version=user.token_version)


def _find(session: Session, username: str) -> User | None:
    """Return the user called ``username``, whatever the case of either name."""
    return session.scalars(select(User).where(func.lower(User.username) == username.lower())).one_or_none()


class UserStore:
    """Create, find and authenticate accounts."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def create(self, username: str, password: str, role: str = ROLE_USER) -> Account:
        """Create an account; raise UserExistsError if the name is taken."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {ROLES}, got {role!r}")
        user = User(
            username=check_username(username).lower(),
            password_hash=hash_password(check_password(password)),
            role=role,
            is_active=True,
            token_version=0,
        )
        taken = UserExistsError(f"the username {username!r} is taken")
        try:
            with self.sessions.begin() as session:
                if _find(session, username) is not None:
                    raise taken
                session.add(user)
        except IntegrityError as exc:
            raise taken from exc
        return _account(user)

    def get(self, username: str) -> Account | None:
        """Return the account called ``username``, or None."""
        with self.sessions() as session:
            user = _find(session, username)
            return _account(user) if user is not None else None

    def authenticate(self, username: str, password: str) -> Account | None:
        """Return the active account if the password matches, else None (in about the same time either way)."""
        with self.sessions() as session:
            user = _find(session, username)
        if not verify_password(user.password_hash if user is not None else None, password):
            return None
        return _account(user) if user is not None and user.is_active else None

    def ensure_admin(self, username: str, password: str) -> bool:
        """Create ``username`` as an admin unless it exists (an existing user is promoted); True if created."""
        with self.sessions.begin() as session:
            user = _find(session, username)
            if user is not None:
                user.role = ROLE_ADMIN
                return False
        try:
            self.create(username, password, role=ROLE_ADMIN)
        except UserExistsError:
            return False
        return True

    def bootstrap_admin(self, username: str, password: str) -> str:
        """Make ``username`` an admin whose password is ``password``, as the environment says.

        Returns ``created``, ``unchanged`` or ``updated``. An existing account that was not an admin
        with this password (a rotated password, or a name someone else registered first) gets the
        role and the password, and every token issued before is revoked.
        """
        with self.sessions() as session:
            user = _find(session, username)
        if user is None:
            try:
                self.create(username, password, role=ROLE_ADMIN)
                return "created"
            except UserExistsError:
                pass
        elif user.role == ROLE_ADMIN and user.is_active and verify_password(user.password_hash, password):
            return "unchanged"
        new_hash = hash_password(check_password(password))
        with self.sessions.begin() as session:
            user = _find(session, username)
            if user is None:
                raise UserStoreUnavailableError(f"the admin account {username!r} vanished while it was being set up")
            user.role = ROLE_ADMIN
            user.is_active = True
            user.password_hash = new_hash
            user.token_version += 1
        return "updated"

    def set_active(self, username: str, active: bool) -> Account | None:
        """Enable or disable an account; disabling revokes every token issued before. None if there is no such user."""
        with self.sessions.begin() as session:
            user = _find(session, username)
            if user is None:
                return None
            if user.is_active and not active:
                user.token_version += 1
            user.is_active = active
            return _account(user)

    def list_accounts(self, limit: int = 1000) -> list[tuple[Account, datetime]]:
        """Every account (at most ``limit``) with when it was made, by name."""
        with self.sessions() as session:
            users = session.scalars(select(User).order_by(User.username).limit(limit)).all()
            return [(_account(user), user.created_at) for user in users]

    def set_password(self, username: str, password: str) -> bool:
        """Replace a user's password and revoke the tokens issued before; False if there is no such user."""
        new_hash = hash_password(check_password(password))
        with self.sessions.begin() as session:
            user = _find(session, username)
            if user is None:
                return False
            user.password_hash = new_hash
            user.token_version += 1
            return True


MAX_STALE_SECONDS = 300.0  # how long a cached account may stand in for the database while it is down


class UserDirectory:
    """A thread-safe, time-limited cache of accounts in front of a UserStore.

    While the database is unreachable, an entry loaded less than ``MAX_STALE_SECONDS`` ago still
    answers (signed-in users keep predicting through an outage); an older one does not, so an
    account disabled during a long outage is not honoured for ever.
    """

    def __init__(self, store: UserStore, ttl: float) -> None:
        self.store = store
        self.ttl = ttl
        self._entries: dict[str, tuple[float, Account | None]] = {}
        self._lock = threading.Lock()

    def cached(self, username: str) -> tuple[bool, Account | None]:
        """``(fresh, account)`` from memory without touching the database."""
        with self._lock:
            entry = self._entries.get(username)
        if entry is None:
            return False, None
        loaded_at, account = entry
        return time.monotonic() - loaded_at < self.ttl, account

    def lookup(self, username: str) -> Account | None:
        """Return the account (None if unknown), from memory if fresh, else from the database.

        If the database is unreachable, a stale entry is used; with none, raise
        UserStoreUnavailableError.
        """
        fresh, account = self.cached(username)
        if fresh:
            return account
        try:
            loaded = self.store.get(username)
        except SQLAlchemyError as exc:
            with self._lock:
                entry = self._entries.get(username)
            if entry is not None and time.monotonic() - entry[0] < MAX_STALE_SECONDS:
                return entry[1]
            raise UserStoreUnavailableError("the account database is unavailable") from exc
        with self._lock:
            self._entries[username] = (time.monotonic(), loaded)
        return loaded

    def forget(self, username: str) -> None:
        """Drop a cached entry (after the account changed)."""
        with self._lock:
            self._entries.pop(username, None)

"""Accounts: ``POST /auth/register``, ``POST /auth/login`` and ``GET /auth/me``.

Register and login are public, throttled per client address and per username, and hash
passwords on their own threads (``service.accounts.throttle``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field

from service.accounts.tokens import MAX_PASSWORD_LENGTH, MAX_USERNAME_LENGTH, CredentialsFormatError, issue_token
from service.accounts.users import Account, UserExistsError
from service.api.deps import client_address, runtime, signed_in
from service.core.runtime import Runtime

router = APIRouter()


class Credentials(BaseModel):
    """A username and password, as sent to register and log in (lengths bounded before any hashing)."""

    username: Annotated[str, Field(max_length=MAX_USERNAME_LENGTH)]
    password: Annotated[str, Field(max_length=MAX_PASSWORD_LENGTH)]


class TokenResponse(BaseModel):
    """An access token for the ``Authorization: Bearer`` header."""

    access_token: str
    token_type: str = "bearer"
    expires_in: int


class AccountResponse(BaseModel):
    """Who an account is."""

    username: str
    role: str


@router.post("/auth/register", status_code=201)
async def register(
    credentials: Credentials, request: Request, rt: Annotated[Runtime, Depends(runtime)]
) -> AccountResponse:
    """Create a user account (role ``user``)."""
    if not rt.settings.allow_registration:
        raise HTTPException(403, "registration is disabled on this server")
    rt.auth_throttle.admit(client_address(request))

    def create() -> Account:
        rt.ensure_schema()
        return rt.users.create(credentials.username, credentials.password)

    try:
        account = await rt.auth_throttle.hash_off_the_main_pool(create)
    except CredentialsFormatError as exc:
        raise HTTPException(400, str(exc)) from exc
    except UserExistsError as exc:
        raise HTTPException(409, str(exc)) from exc
    rt.directory.forget(account.username)
    return AccountResponse(username=account.username, role=account.role)


@router.post("/auth/login")
async def login(credentials: Credentials, request: Request, rt: Annotated[Runtime, Depends(runtime)]) -> TokenResponse:
    """Exchange a username and password for a bearer token."""
    rt.auth_throttle.admit(client_address(request), credentials.username)

    def authenticate() -> Account | None:
        rt.ensure_schema()
        return rt.users.authenticate(credentials.username, credentials.password)

    account = await rt.auth_throttle.hash_off_the_main_pool(authenticate)
    if account is None:
        rt.auth_throttle.failed_login(client_address(request), credentials.username)
        raise HTTPException(401, "wrong username or password", headers={"www-authenticate": "Bearer"})
    ttl = rt.settings.token_ttl_seconds
    token = issue_token(rt.settings.jwt_secret, account.username, account.role, ttl, version=account.token_version)
    return TokenResponse(access_token=token, expires_in=ttl)


@router.get("/auth/me")
def me(account: Annotated[Account, Depends(signed_in)]) -> AccountResponse:
    """Return the account the bearer token belongs to."""
    return AccountResponse(username=account.username, role=account.role)

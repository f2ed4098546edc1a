"""Account control for admins: ``GET /admin/users``, ``POST /admin/users/{username}/disable`` and ``.../enable``.

Disabling an account revokes its tokens at once (its token version moves on and this worker forgets
the cached account), and it can no longer log in; enabling it lets it log in again, with new tokens
only. An admin cannot disable their own account (409), so an instance cannot lose its last admin
that way. The same is done from the command line: ``python -m service.admin disable USERNAME``.
"""

from __future__ import annotations

from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel

from service.accounts.users import Account
from service.api.deps import admin, runtime
from service.core.runtime import Runtime

router = APIRouter()


class UserItem(BaseModel):
    """One account as admins see it."""

    username: str
    role: str
    is_active: bool
    created_at: str | None = None


class UserList(BaseModel):
    """Every account, by name."""

    items: list[UserItem]


@router.get("/admin/users")
async def list_users(_: Annotated[Account, Depends(admin)], rt: Annotated[Runtime, Depends(runtime)]) -> UserList:
    """Every account (at most 1,000), by name, with its role and whether it is enabled."""

    def read() -> UserList:
        rt.ensure_schema()
        items = [
            UserItem(
                username=account.username,
                role=account.role,
                is_active=account.is_active,
                created_at=created.isoformat() + "Z" if created else None,
            )
            for account, created in rt.users.list_accounts()
        ]
        return UserList(items=items)

    return await anyio.to_thread.run_sync(read)


async def _set_active(rt: Runtime, acting: Account, username: str, active: bool) -> UserItem:
    """Enable or disable ``username`` and forget its cached account (404 if unknown, 409 for oneself)."""
    if not active and username.lower() == acting.username.lower():
        raise HTTPException(409, "you cannot disable your own account")

    def change() -> Account | None:
        rt.ensure_schema()
        return rt.users.set_active(username, active)

    account = await anyio.to_thread.run_sync(change)
    if account is None:
        raise HTTPException(404, f"no account is called {username!r}")
    rt.directory.forget(account.username)
    return UserItem(username=account.username, role=account.role, is_active=account.is_active)


@router.post("/admin/users/{username}/disable")
async def disable_user(
    username: str, acting: Annotated[Account, Depends(admin)], rt: Annotated[Runtime, Depends(runtime)]
) -> UserItem:
    """Disable an account: its tokens stop working now and it cannot log in."""
    return await _set_active(rt, acting, username, active=False)


@router.post("/admin/users/{username}/enable")
async def enable_user(
    username: str, acting: Annotated[Account, Depends(admin)], rt: Annotated[Runtime, Depends(runtime)]
) -> UserItem:
    """Enable a disabled account: it may log in again (its old tokens stay revoked)."""
    return await _set_active(rt, acting, username, active=True)

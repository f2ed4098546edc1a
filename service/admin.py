"""Account administration from the command line, against ``DATABASE_URL``.

    python -m service.admin create-admin USERNAME [--reset-password]
    python -m service.admin create-user USERNAME
    python -m service.admin reset-password USERNAME
    python -m service.admin disable USERNAME | enable USERNAME

The password comes from ``DIGITIFY_ADMIN_PASSWORD`` (``create-admin``) or ``DIGITIFY_USER_PASSWORD``
(``create-user``) if set, else from a prompt (asked twice). An existing user is promoted to admin;
its password changes only with ``--reset-password``. ``create-user`` makes an ordinary account: the
way to add users when registration is off (``DIGITIFY_ALLOW_REGISTRATION``, off in production).
``reset-password`` (from ``DIGITIFY_USER_PASSWORD`` or a prompt) changes a password and nothing
else. ``disable`` revokes an account's tokens and stops its logins; ``enable`` undoes that. A
running service notices changes made here within ``DIGITIFY_USER_CACHE_SECONDS`` (the admin routes
``/admin/users/...`` act at once).
"""

from __future__ import annotations

import argparse
import getpass
import os

from service.accounts.tokens import CredentialsFormatError, check_password, check_username
from service.accounts.users import UserExistsError, UserStore
from service.core.config import default_database_url
from service.db.engine import make_engine, migrate, session_factory

PASSWORD_VARIABLES = {
    "create-admin": "DIGITIFY_ADMIN_PASSWORD",
    "create-user": "DIGITIFY_USER_PASSWORD",
    "reset-password": "DIGITIFY_USER_PASSWORD",
}


def read_password(variable: str) -> str:
    """Return the new password from the environment variable ``variable`` or an interactive prompt."""
    from_env = os.environ.get(variable)
    if from_env:
        return from_env
    first = getpass.getpass("password: ")
    if first != getpass.getpass("password again: "):
        raise SystemExit("the passwords differ")
    return first


def create_admin(username: str, password: str, reset_password: bool, database_url: str) -> str:
    """Create or promote ``username`` as an admin; return what was done."""
    engine = make_engine(database_url)
    try:
        migrate(engine)
        users = UserStore(session_factory(engine))
        if users.ensure_admin(username, password):
            return f"created admin {username!r}"
        if reset_password:
            users.set_password(username, password)
            return f"{username!r} is an admin; password reset"
        return f"{username!r} already existed and is now an admin (password unchanged)"
    finally:
        engine.dispose()


def create_user(username: str, password: str, database_url: str) -> str:
    """Create the ordinary account ``username``; return what was done (SystemExit if the name is taken)."""
    engine = make_engine(database_url)
    try:
        migrate(engine)
        try:
            UserStore(session_factory(engine)).create(username, password)
        except UserExistsError as exc:
            raise SystemExit(f"{username!r} already exists") from exc
        return f"created user {username!r}"
    finally:
        engine.dispose()


def change_account(command: str, username: str, database_url: str, password: str | None = None) -> str:
    """Reset the password of, disable or enable ``username``; return what was done (SystemExit if unknown)."""
    engine = make_engine(database_url)
    try:
        migrate(engine)
        users = UserStore(session_factory(engine))
        if command == "reset-password":
            found = users.set_password(username, password or "")
        else:
            found = users.set_active(username, command == "enable") is not None
        if not found:
            raise SystemExit(f"no account is called {username!r}")
        done = {"reset-password": "password reset", "disable": "disabled", "enable": "enabled"}[command]
        return f"{username!r}: {done}" + ("; its tokens are revoked" if command != "enable" else "")
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create-admin", help="create an admin account (or promote a user)")
    create.add_argument("username")
    create.add_argument("--reset-password", action="store_true", help="also set the password of an existing user")
    user = commands.add_parser("create-user", help="create an ordinary account (users without registration)")
    user.add_argument("username")
    helps = {
        "reset-password": "set a new password (nothing else changes); revokes its tokens",
        "disable": "disable an account: revoke its tokens, refuse its logins",
        "enable": "enable a disabled account",
    }
    for name, text in helps.items():
        commands.add_parser(name, help=text).add_argument("username")
    args = parser.parse_args(argv)
    database_url = os.environ.get("DATABASE_URL") or default_database_url()
    if args.command in ("disable", "enable"):
        print(change_account(args.command, args.username, database_url))
        return
    try:
        username = check_username(args.username)
        password = check_password(read_password(PASSWORD_VARIABLES[args.command]))
    except CredentialsFormatError as exc:
        raise SystemExit(str(exc)) from exc
    if args.command == "reset-password":
        print(change_account(args.command, username, database_url, password))
    elif args.command == "create-user":
        print(create_user(username, password, database_url))
    else:
        print(create_admin(username, password, args.reset_password, database_url))


if __name__ == "__main__":
    main()

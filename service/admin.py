"""Account administration from the command line, against ``DATABASE_URL``.

    python -m service.admin create-admin USERNAME [--reset-password]
    python -m service.admin create-user USERNAME

The password comes from ``DIGITIFY_ADMIN_PASSWORD`` (``create-admin``) or ``DIGITIFY_USER_PASSWORD``
(``create-user``) if set, else from a prompt (asked twice). An existing user is promoted to admin;
its password changes only with ``--reset-password``. ``create-user`` makes an ordinary account: the
way to add users when registration is off (``DIGITIFY_ALLOW_REGISTRATION``, off in production).
"""

from __future__ import annotations

import argparse
import getpass
import os

from service.accounts.tokens import CredentialsFormatError, check_password, check_username
from service.accounts.users import UserExistsError, UserStore
from service.core.config import default_database_url
from service.db.engine import make_engine, migrate, session_factory

PASSWORD_VARIABLES = {"create-admin": "DIGITIFY_ADMIN_PASSWORD", "create-user": "DIGITIFY_USER_PASSWORD"}


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


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create-admin", help="create an admin account (or promote a user)")
    create.add_argument("username")
    create.add_argument("--reset-password", action="store_true", help="also set the password of an existing user")
    user = commands.add_parser("create-user", help="create an ordinary account (users without registration)")
    user.add_argument("username")
    args = parser.parse_args(argv)
    try:
        username = check_username(args.username)
        password = check_password(read_password(PASSWORD_VARIABLES[args.command]))
    except CredentialsFormatError as exc:
        raise SystemExit(str(exc)) from exc
    database_url = os.environ.get("DATABASE_URL") or default_database_url()
    if args.command == "create-user":
        print(create_user(username, password, database_url))
    else:
        print(create_admin(username, password, args.reset_password, database_url))


if __name__ == "__main__":
    main()

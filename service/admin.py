"""Account administration from the command line, against ``DATABASE_URL``.

    python -m service.admin create-admin USERNAME [--reset-password]

The password comes from ``DIGITIFY_ADMIN_PASSWORD`` if set, else from a prompt (asked twice).
An existing user is promoted to admin; its password changes only with ``--reset-password``.
"""

from __future__ import annotations

import argparse
import getpass
import os

from service.accounts.tokens import CredentialsFormatError, check_password, check_username
from service.accounts.users import UserStore
from service.core.config import default_database_url
from service.db.engine import make_engine, migrate, session_factory


def read_password() -> str:
    """Return the new password from the environment or an interactive prompt."""
    from_env = os.environ.get("DIGITIFY_ADMIN_PASSWORD")
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


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create-admin", help="create an admin account (or promote a user)")
    create.add_argument("username")
    create.add_argument("--reset-password", action="store_true", help="also set the password of an existing user")
    args = parser.parse_args(argv)
    try:
        username = check_username(args.username)
        password = check_password(read_password())
    except CredentialsFormatError as exc:
        raise SystemExit(str(exc)) from exc
    database_url = os.environ.get("DATABASE_URL") or default_database_url()
    print(create_admin(username, password, args.reset_password, database_url))


if __name__ == "__main__":
    main()

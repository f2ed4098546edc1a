"""Development-mode secrets: a random JWT secret and admin password, made at first start, owner-only.

Development mode needs no set-up, yet nothing it trusts may be public: the first start writes
``.digitify-dev-secrets.json`` in the working directory (mode 0600, created atomically so that
several workers agree on one file), prints the admin password once, and later starts read it.
A file that others may read is refused rather than trusted.
"""

from __future__ import annotations

import json
import os
import secrets
import stat
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

FILE_NAME = ".digitify-dev-secrets.json"
SECRET_BYTES = 48


class DevSecretsError(RuntimeError):
    """The development secrets file cannot be used; the message says why and what to do."""


@dataclass(frozen=True)
class DevSecrets:
    """The generated development JWT secret and admin password."""

    jwt_secret: str
    admin_password: str


def secrets_path(cwd: Path | None = None) -> Path:
    """Where the development secrets live: ``.digitify-dev-secrets.json`` in the working directory."""
    return (cwd or Path.cwd()) / FILE_NAME


def load_or_create(path: Path, admin_username: str) -> DevSecrets:
    """Read the development secrets, creating them (and announcing the admin password) on first use."""
    if not path.exists():
        created = _create(path)
        if created is not None:
            print(
                f"digitify: development mode: generated a JWT secret and the password of admin {admin_username!r}: "
                f"{created.admin_password}\ndigitify: both are kept in {path} (readable by you only); "
                "this is the only time the password is printed",
                file=sys.stderr,
                flush=True,
            )
            return created
    return _read(path)


def _create(path: Path) -> DevSecrets | None:
    """Write fresh secrets to ``path`` unless another process got there first (then return None)."""
    values = DevSecrets(jwt_secret=secrets.token_urlsafe(SECRET_BYTES), admin_password=secrets.token_urlsafe(18))
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, scratch = tempfile.mkstemp(prefix=".digitify-dev-secrets-", dir=path.parent)
    try:
        with os.fdopen(descriptor, "w") as handle:
            json.dump({"jwt_secret": values.jwt_secret, "admin_password": values.admin_password}, handle)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(scratch, path)
        except FileExistsError:
            return None
    finally:
        os.unlink(scratch)
    return values


def _read(path: Path) -> DevSecrets:
    """Read existing secrets; refuse a file that group or others can read or write."""
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise DevSecretsError(f"{path} is readable by others: run `chmod 600 {path}` (or delete it to make new ones)")
    try:
        document = json.loads(path.read_text())
        return DevSecrets(jwt_secret=str(document["jwt_secret"]), admin_password=str(document["admin_password"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise DevSecretsError(f"{path} is not a valid secrets file: delete it to make new ones") from exc

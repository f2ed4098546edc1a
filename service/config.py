"""The service's settings, read from environment variables only.

Every variable the service reads is named in ``ENV_VARS`` (the deployment files and their test
rely on that list). Development mode runs with built-in defaults; production mode refuses to
start without a real JWT secret and refuses the development admin password.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DEVELOPMENT = "development"
PRODUCTION = "production"
DEV_JWT_SECRET = "digitify-development-secret-not-for-production"
DEV_ADMIN_USERNAME = "admin"
DEV_ADMIN_PASSWORD = "digitify-dev-admin"
MIN_SECRET_BYTES = 32
DEFAULT_MODEL_TAG = "digitify-crnn:latest"
WEB_DIST = Path(__file__).resolve().parent / "web" / "dist"

ENV_VARS = (
    "DIGITIFY_ENV",
    "DIGITIFY_JWT_SECRET",
    "DIGITIFY_TOKEN_TTL_SECONDS",
    "DIGITIFY_ADMIN_USERNAME",
    "DIGITIFY_ADMIN_PASSWORD",
    "DIGITIFY_ALLOW_REGISTRATION",
    "DATABASE_URL",
    "DIGITIFY_SPOOL_PATH",
    "DIGITIFY_MAX_UPLOAD_BYTES",
    "DIGITIFY_MAX_BATCH_BYTES",
    "DIGITIFY_MAX_BATCH_IMAGES",
    "DIGITIFY_MAX_TASK_IMAGES",
    "DIGITIFY_MODEL",
    "DIGITIFY_LOW_CONFIDENCE",
    "DIGITIFY_WEB_DIR",
    "DIGITIFY_USER_CACHE_SECONDS",
    "DIGITIFY_DB_CONNECT_TIMEOUT",
    "DIGITIFY_TORCH_THREADS",
    "DIGITIFY_ADAPTIVE_BATCHING",
)


class ConfigError(RuntimeError):
    """The environment does not describe a configuration the service may start with."""


@dataclass(frozen=True)
class Settings:
    """Everything the service can be told from the outside."""

    env: str
    jwt_secret: str
    token_ttl_seconds: int
    admin_username: str | None
    admin_password: str | None
    allow_registration: bool
    database_url: str
    spool_path: Path
    max_upload_bytes: int
    max_batch_bytes: int
    max_batch_images: int
    max_task_images: int
    model_tag: str
    low_confidence: float
    web_dir: Path
    user_cache_seconds: float
    db_connect_timeout: int
    torch_threads: int
    adaptive_batching: bool

    @property
    def production(self) -> bool:
        """Whether the service runs in production mode."""
        return self.env == PRODUCTION


def model_tag(environ: Mapping[str, str] | None = None) -> str:
    """Return the BentoML model tag to serve (needed at import time, before full settings)."""
    environ = os.environ if environ is None else environ
    return environ.get("DIGITIFY_MODEL") or DEFAULT_MODEL_TAG


def web_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Where the built web UI is (needed when the routes are built, before full settings)."""
    environ = os.environ if environ is None else environ
    return Path(environ.get("DIGITIFY_WEB_DIR") or WEB_DIST)


def default_database_url(cwd: Path | None = None) -> str:
    """Return the embedded default: a SQLite file ``predictions.db`` in the working directory."""
    return f"sqlite:///{(cwd or Path.cwd()) / 'predictions.db'}"


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read and check the settings; raise ConfigError with a readable message if they are unusable."""
    environ = os.environ if environ is None else environ
    env = environ.get("DIGITIFY_ENV", DEVELOPMENT).strip().lower() or DEVELOPMENT
    if env not in (DEVELOPMENT, PRODUCTION):
        raise ConfigError(f"DIGITIFY_ENV must be {DEVELOPMENT!r} or {PRODUCTION!r}, got {env!r}")
    production = env == PRODUCTION
    admin_username = environ.get("DIGITIFY_ADMIN_USERNAME") or (None if production else DEV_ADMIN_USERNAME)
    admin_password = environ.get("DIGITIFY_ADMIN_PASSWORD") or (None if production else DEV_ADMIN_PASSWORD)
    settings = Settings(
        env=env,
        jwt_secret=environ.get("DIGITIFY_JWT_SECRET") or ("" if production else DEV_JWT_SECRET),
        token_ttl_seconds=_int(environ, "DIGITIFY_TOKEN_TTL_SECONDS", 3600, minimum=1),
        admin_username=admin_username,
        admin_password=admin_password,
        allow_registration=_bool(environ, "DIGITIFY_ALLOW_REGISTRATION", True),
        database_url=environ.get("DATABASE_URL") or default_database_url(),
        spool_path=Path(environ.get("DIGITIFY_SPOOL_PATH") or Path.cwd() / "predictions-spool.db"),
        max_upload_bytes=_int(environ, "DIGITIFY_MAX_UPLOAD_BYTES", 5 * 1024 * 1024, minimum=1024),
        max_batch_bytes=_int(environ, "DIGITIFY_MAX_BATCH_BYTES", 32 * 1024 * 1024, minimum=1024),
        max_batch_images=_int(environ, "DIGITIFY_MAX_BATCH_IMAGES", 64, minimum=1),
        max_task_images=_int(environ, "DIGITIFY_MAX_TASK_IMAGES", 1000, minimum=1),
        model_tag=model_tag(environ),
        low_confidence=_float(environ, "DIGITIFY_LOW_CONFIDENCE", 0.5, 0.0, 1.0),
        web_dir=web_dir(environ),
        user_cache_seconds=_float(environ, "DIGITIFY_USER_CACHE_SECONDS", 10.0, 0.0, 3600.0),
        db_connect_timeout=_int(environ, "DIGITIFY_DB_CONNECT_TIMEOUT", 3, minimum=1),
        torch_threads=_int(environ, "DIGITIFY_TORCH_THREADS", 0, minimum=0),
        adaptive_batching=_bool(environ, "DIGITIFY_ADAPTIVE_BATCHING", False),
    )
    if production:
        _check_production(settings)
    return settings


def _check_production(settings: Settings) -> None:
    """Refuse the development defaults and missing secrets in production mode."""
    problems = []
    if not settings.jwt_secret:
        problems.append("DIGITIFY_JWT_SECRET is not set")
    elif settings.jwt_secret == DEV_JWT_SECRET:
        problems.append("DIGITIFY_JWT_SECRET is the development default")
    elif len(settings.jwt_secret.encode()) < MIN_SECRET_BYTES:
        problems.append(f"DIGITIFY_JWT_SECRET is shorter than {MIN_SECRET_BYTES} bytes")
    if settings.admin_password == DEV_ADMIN_PASSWORD:
        problems.append("DIGITIFY_ADMIN_PASSWORD is the development default")
    if bool(settings.admin_username) != bool(settings.admin_password):
        problems.append("set both DIGITIFY_ADMIN_USERNAME and DIGITIFY_ADMIN_PASSWORD, or neither")
    if problems:
        raise ConfigError("refusing to start in production mode: " + "; ".join(problems))


def _int(environ: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    """Read an integer variable, at least ``minimum``."""
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from exc
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


def _float(environ: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    """Read a float variable within ``[low, high]``."""
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from exc
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _bool(environ: Mapping[str, str], name: str, default: bool) -> bool:
    """Read a yes/no variable (1/0, true/false, yes/no, on/off)."""
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")

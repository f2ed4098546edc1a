"""The service's settings, read from environment variables only.

Every variable the service reads is named in ``ENV_VARS`` (the deployment files and their test
rely on that list). Development mode needs no set-up: what is not given is generated at first
start and kept owner-only (``service.core.dev_secrets``), and the service answers only this machine
(``service.http.loopback_guard``). Production mode refuses to start without a real JWT secret and admin
password. Secrets that were ever published in this repository are refused in both modes.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from models.number_value import SEPARATOR_RULES, SeparatorRule
from service.core.dev_secrets import DevSecretsError, load_or_create, secrets_path
from service.db.engine import database_identity

DEVELOPMENT = "development"
PRODUCTION = "production"
DEV_ADMIN_USERNAME = "admin"
PUBLIC_SECRETS = frozenset({"digitify-development-secret-not-for-production"})
PUBLIC_PASSWORDS = frozenset({"digitify-dev-admin"})
MIN_SECRET_BYTES = 32
MAX_DEFAULT_INFERENCE_PROCESSES = 4
DEFAULT_MODEL_TAG = "digitify-crnn:latest"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
EVERY_PATH = ".*"  # an OpenTelemetry excluded-URL pattern matching every request
WEB_DIST = Path(__file__).resolve().parents[1] / "web" / "dist"

ENV_VARS = (
    "DIGITIFY_ENV",
    "DIGITIFY_JWT_SECRET",
    "DIGITIFY_TOKEN_TTL_SECONDS",
    "DIGITIFY_ADMIN_USERNAME",
    "DIGITIFY_ADMIN_PASSWORD",
    "DIGITIFY_ALLOW_REGISTRATION",
    "DATABASE_URL",
    "DIGITIFY_SPOOL_PATH",
    "DIGITIFY_SPOOL_MAX_ROWS",
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
    "DIGITIFY_INFERENCE_PROCESSES",
    "DIGITIFY_KEEP_IMAGES",
    "DIGITIFY_IMAGE_STORE",
    "DIGITIFY_IMAGE_RETENTION_DAYS",
    "DIGITIFY_LOG_RETENTION_DAYS",
    "DIGITIFY_KEPT_MB_PER_USER_DAY",
    "DIGITIFY_TRACING",
    "DIGITIFY_TRUSTED_PROXIES",
    "REDIS_URL",
    "DIGITIFY_TASK_RESULT_TTL",
    "DIGITIFY_TASK_VISIBILITY_SECONDS",
    "DIGITIFY_DECIMAL_SEPARATOR",
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
    spool_max_rows: int
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
    inference_processes: int
    keep_images: bool
    image_store: str
    image_retention_days: int
    log_retention_days: int
    kept_mb_per_user_day: int
    redis_url: str = DEFAULT_REDIS_URL
    task_result_ttl: int = 86_400
    task_visibility_seconds: int = 600
    decimal_separator: SeparatorRule = "auto"

    @property
    def production(self) -> bool:
        """Whether the service runs in production mode."""
        return self.env == PRODUCTION


def model_tag(environ: Mapping[str, str] | None = None) -> str:
    """Return the BentoML model tag to serve (needed at import time, before full settings)."""
    environ = os.environ if environ is None else environ
    return environ.get("DIGITIFY_MODEL") or DEFAULT_MODEL_TAG


def tracing(environ: Mapping[str, str] | None = None) -> dict[str, list[str]]:
    """Return BentoML's tracing settings for the service (needed at import time, before full settings).

    Unless ``DIGITIFY_TRACING`` is true, BentoML's OpenTelemetry middleware skips every path. Its
    default records nothing (sample rate 0, no exporter), yet builds spans for each request and for
    each of its receive and send events: a quarter to a third of the web worker's CPU per
    prediction, measured (README, "Performance"). With ``DIGITIFY_TRACING=true``, BentoML's own
    ``tracing`` settings (exporter, sample rate, excluded URLs) apply unchanged.
    """
    environ = os.environ if environ is None else environ
    return {} if _bool(environ, "DIGITIFY_TRACING", False) else {"excluded_urls": [EVERY_PATH]}


def trusted_proxies(environ: Mapping[str, str] | None = None) -> str:
    """Return the proxies whose ``X-Forwarded-For`` and ``-Proto`` headers are believed (needed before workers start).

    ``DIGITIFY_TRUSTED_PROXIES``: comma-separated addresses or networks (``10.0.0.5,10.1.0.0/16``),
    none by default: a client's own forwarded header never decides its address, so it cannot
    pick its per-address limits. The service hands the list to uvicorn (``FORWARDED_ALLOW_IPS``).
    Raises ConfigError naming an entry that is not an address or network.
    """
    environ = os.environ if environ is None else environ
    entries = [entry.strip() for entry in environ.get("DIGITIFY_TRUSTED_PROXIES", "").split(",") if entry.strip()]
    for entry in entries:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError as exc:
            raise ConfigError(f"DIGITIFY_TRUSTED_PROXIES: {entry!r} is not an IP address or network") from exc
    return ",".join(entries)


def environment(environ: Mapping[str, str] | None = None) -> str:
    """Return the mode, ``development`` or ``production`` (needed by middleware built before full settings)."""
    environ = os.environ if environ is None else environ
    return environ.get("DIGITIFY_ENV", DEVELOPMENT).strip().lower() or DEVELOPMENT


def web_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Where the built web UI is (needed when the routes are built, before full settings)."""
    environ = os.environ if environ is None else environ
    return Path(environ.get("DIGITIFY_WEB_DIR") or WEB_DIST)


def default_database_url(cwd: Path | None = None) -> str:
    """Return the embedded default: a SQLite file ``predictions.db`` in the working directory."""
    return f"sqlite:///{(cwd or Path.cwd()) / 'predictions.db'}"


def default_spool_path(database_url: str, cwd: Path | None = None) -> Path:
    """Return the default spool of a database, in the working directory: one file per database.

    The embedded default database keeps ``predictions-spool.db``; any other gets a name with a
    hash of its identity, so services logging to different databases never share a spool.
    """
    cwd = cwd or Path.cwd()
    if database_url == default_database_url(cwd):
        return cwd / "predictions-spool.db"
    digest = hashlib.sha256(database_identity(database_url, cwd).encode()).hexdigest()[:12]
    return cwd / f"predictions-spool-{digest}.db"


def default_image_store(cwd: Path | None = None) -> str:
    """Return the embedded default image store: a folder ``prediction-images`` in the working directory."""
    return str((cwd or Path.cwd()) / "prediction-images")


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read and check the settings; raise ConfigError with a readable message if they are unusable."""
    environ = os.environ if environ is None else environ
    env = environment(environ)
    if env not in (DEVELOPMENT, PRODUCTION):
        raise ConfigError(f"DIGITIFY_ENV must be {DEVELOPMENT!r} or {PRODUCTION!r}, got {env!r}")
    production = env == PRODUCTION
    admin_username = environ.get("DIGITIFY_ADMIN_USERNAME") or (None if production else DEV_ADMIN_USERNAME)
    admin_password = environ.get("DIGITIFY_ADMIN_PASSWORD") or None
    jwt_secret = environ.get("DIGITIFY_JWT_SECRET") or ""
    _check_not_public(jwt_secret, admin_password)
    database_url = environ.get("DATABASE_URL") or default_database_url()
    trusted_proxies(environ)  # a bad entry is named before anything starts
    settings = Settings(
        env=env,
        jwt_secret=jwt_secret,
        token_ttl_seconds=_int(environ, "DIGITIFY_TOKEN_TTL_SECONDS", 3600, minimum=1),
        admin_username=admin_username,
        admin_password=admin_password,
        allow_registration=_bool(environ, "DIGITIFY_ALLOW_REGISTRATION", env != PRODUCTION),  # open only in development
        database_url=database_url,
        spool_path=Path(environ.get("DIGITIFY_SPOOL_PATH") or default_spool_path(database_url)),
        spool_max_rows=_int(environ, "DIGITIFY_SPOOL_MAX_ROWS", 1_000_000, minimum=1),
        max_upload_bytes=_int(environ, "DIGITIFY_MAX_UPLOAD_BYTES", 5 * 1024 * 1024, minimum=1024),
        max_batch_bytes=_int(environ, "DIGITIFY_MAX_BATCH_BYTES", 32 * 1024 * 1024, minimum=1024),
        max_batch_images=_int(environ, "DIGITIFY_MAX_BATCH_IMAGES", 64, minimum=1),
        max_task_images=_int(environ, "DIGITIFY_MAX_TASK_IMAGES", 1000, minimum=1),
        model_tag=model_tag(environ),
        low_confidence=_float(environ, "DIGITIFY_LOW_CONFIDENCE", 0.5, 0.0, 1.0),
        web_dir=web_dir(environ),
        user_cache_seconds=_float(environ, "DIGITIFY_USER_CACHE_SECONDS", 10.0, 0.0, 3600.0),
        db_connect_timeout=_int(environ, "DIGITIFY_DB_CONNECT_TIMEOUT", 3, minimum=1),
        torch_threads=_int(environ, "DIGITIFY_TORCH_THREADS", 1, minimum=1),
        inference_processes=_int(environ, "DIGITIFY_INFERENCE_PROCESSES", default_inference_processes(), minimum=1),
        keep_images=_bool(environ, "DIGITIFY_KEEP_IMAGES", False),
        image_store=environ.get("DIGITIFY_IMAGE_STORE") or default_image_store(),
        image_retention_days=_int(environ, "DIGITIFY_IMAGE_RETENTION_DAYS", 30, minimum=0),
        log_retention_days=_int(environ, "DIGITIFY_LOG_RETENTION_DAYS", 365, minimum=0),
        kept_mb_per_user_day=_int(environ, "DIGITIFY_KEPT_MB_PER_USER_DAY", 20, minimum=0),
        redis_url=environ.get("REDIS_URL") or DEFAULT_REDIS_URL,
        task_result_ttl=_int(environ, "DIGITIFY_TASK_RESULT_TTL", 86_400, minimum=1),
        task_visibility_seconds=_int(environ, "DIGITIFY_TASK_VISIBILITY_SECONDS", 600, minimum=1),
        decimal_separator=_separator_rule(environ),
    )
    _check_retention(settings)
    if production:
        _check_production(settings)
        return settings
    return _with_generated_secrets(settings)


def _with_generated_secrets(settings: Settings) -> Settings:
    """Fill a development configuration's missing JWT secret and admin password from the owner-only file."""
    missing_password = bool(settings.admin_username) and not settings.admin_password
    if settings.jwt_secret and not missing_password:
        return settings
    try:
        generated = load_or_create(secrets_path(), settings.admin_username or DEV_ADMIN_USERNAME)
    except DevSecretsError as exc:
        raise ConfigError(str(exc)) from exc
    return replace(
        settings,
        jwt_secret=settings.jwt_secret or generated.jwt_secret,
        admin_password=generated.admin_password if missing_password else settings.admin_password,
    )


def _check_not_public(jwt_secret: str, admin_password: str | None) -> None:
    """Refuse, in every mode, a secret or password that was published in this repository."""
    if jwt_secret in PUBLIC_SECRETS:
        raise ConfigError("DIGITIFY_JWT_SECRET is a published development default: anyone could sign tokens")
    if admin_password in PUBLIC_PASSWORDS:
        raise ConfigError("DIGITIFY_ADMIN_PASSWORD is a published development default: choose another")


def _check_retention(settings: Settings) -> None:
    """Refuse a log kept for less time than images: an image whose rows are gone could never expire."""
    log_days, image_days = settings.log_retention_days, settings.image_retention_days
    if log_days and (image_days == 0 or log_days < image_days):
        raise ConfigError(
            f"DIGITIFY_LOG_RETENTION_DAYS ({log_days}) must be 0 (keep the log for ever) or at least "
            f"DIGITIFY_IMAGE_RETENTION_DAYS ({image_days or 'for ever'}): images expire by their log rows"
        )


def _check_production(settings: Settings) -> None:
    """Refuse missing or weak secrets in production mode."""
    problems = []
    if not settings.jwt_secret:
        problems.append("DIGITIFY_JWT_SECRET is not set")
    elif len(settings.jwt_secret.encode()) < MIN_SECRET_BYTES:
        problems.append(f"DIGITIFY_JWT_SECRET is shorter than {MIN_SECRET_BYTES} bytes")
    if bool(settings.admin_username) != bool(settings.admin_password):
        problems.append("set both DIGITIFY_ADMIN_USERNAME and DIGITIFY_ADMIN_PASSWORD, or neither")
    if problems:
        raise ConfigError("refusing to start in production mode: " + "; ".join(problems))


def default_inference_processes() -> int:
    """One inference process per core, at most four (one web worker feeds no more than that)."""
    return max(1, min(os.cpu_count() or 1, MAX_DEFAULT_INFERENCE_PROCESSES))


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


def _separator_rule(environ: Mapping[str, str]) -> SeparatorRule:
    """Read how a reading's ``,`` or ``.`` is taken by default (``models.number_value``)."""
    raw = (environ.get("DIGITIFY_DECIMAL_SEPARATOR") or "auto").strip().lower()
    for rule in SEPARATOR_RULES:
        if raw == rule:
            return rule
    raise ConfigError(f"DIGITIFY_DECIMAL_SEPARATOR must be one of {', '.join(SEPARATOR_RULES)}, got {raw!r}")


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

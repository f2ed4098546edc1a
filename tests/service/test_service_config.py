"""Settings come from the environment; production refuses missing or development secrets."""

from __future__ import annotations

import pytest

from service.core.config import (
    PUBLIC_PASSWORDS,
    PUBLIC_SECRETS,
    ConfigError,
    default_inference_processes,
    load_settings,
    model_tag,
    tracing,
    trusted_proxies,
)
from service.core.dev_secrets import FILE_NAME

DEV_JWT_SECRET = next(iter(PUBLIC_SECRETS))
DEV_ADMIN_PASSWORD = next(iter(PUBLIC_PASSWORDS))

GOOD_SECRET = "s" * 48


def test_development_defaults_run_with_no_configuration(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = load_settings({})
    assert settings.env == "development"
    assert len(settings.jwt_secret) >= 32 and settings.jwt_secret not in PUBLIC_SECRETS
    assert settings.admin_username == "admin" and len(settings.admin_password) >= 16
    assert settings.database_url == f"sqlite:///{tmp_path / 'predictions.db'}"
    assert settings.model_tag == "digitify-crnn:latest"
    assert settings.allow_registration  # open in development
    assert (tmp_path / FILE_NAME).stat().st_mode & 0o777 == 0o600
    again = load_settings({})
    assert (again.jwt_secret, again.admin_password) == (settings.jwt_secret, settings.admin_password)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert load_settings({}).jwt_secret != settings.jwt_secret


def test_development_secrets_readable_by_others_are_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    load_settings({})
    (tmp_path / FILE_NAME).chmod(0o644)
    with pytest.raises(ConfigError, match="readable by others"):
        load_settings({})


def test_given_development_secrets_are_used_and_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = load_settings({"DIGITIFY_JWT_SECRET": GOOD_SECRET, "DIGITIFY_ADMIN_PASSWORD": "a-real-password"})
    assert (settings.jwt_secret, settings.admin_password) == (GOOD_SECRET, "a-real-password")
    assert not (tmp_path / FILE_NAME).exists()


@pytest.mark.parametrize("env", ["development", "production"])
@pytest.mark.parametrize(
    ("environ", "complaint"),
    [
        ({"DIGITIFY_JWT_SECRET": DEV_JWT_SECRET}, "DIGITIFY_JWT_SECRET is a published development default"),
        (
            {"DIGITIFY_JWT_SECRET": GOOD_SECRET, "DIGITIFY_ADMIN_PASSWORD": DEV_ADMIN_PASSWORD},
            "DIGITIFY_ADMIN_PASSWORD is a published development default",
        ),
    ],
)
def test_published_secrets_are_refused_in_every_mode(tmp_path, monkeypatch, env, environ, complaint):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=complaint):
        load_settings({"DIGITIFY_ENV": env, **environ})


@pytest.mark.parametrize(
    ("environ", "complaint"),
    [
        ({}, "DIGITIFY_JWT_SECRET is not set"),
        ({"DIGITIFY_JWT_SECRET": "short"}, "shorter than 32 bytes"),
        ({"DIGITIFY_JWT_SECRET": GOOD_SECRET, "DIGITIFY_ADMIN_USERNAME": "root"}, "set both"),
    ],
)
def test_production_refuses_unsafe_settings(environ, complaint):
    with pytest.raises(ConfigError, match=complaint):
        load_settings({"DIGITIFY_ENV": "production", **environ})


def test_production_accepts_real_secrets():
    settings = load_settings(
        {
            "DIGITIFY_ENV": "production",
            "DIGITIFY_JWT_SECRET": GOOD_SECRET,
            "DIGITIFY_ADMIN_USERNAME": "root",
            "DIGITIFY_ADMIN_PASSWORD": "a-real-password",
            "DATABASE_URL": "postgresql://u@db/digitify",
            "DIGITIFY_MAX_UPLOAD_BYTES": "2048",
        }
    )
    assert settings.production and settings.admin_username == "root"
    assert settings.max_upload_bytes == 2048
    assert not settings.allow_registration  # closed in production unless DIGITIFY_ALLOW_REGISTRATION says so


def test_production_opens_registration_only_when_told():
    production = {
        "DIGITIFY_ENV": "production",
        "DIGITIFY_JWT_SECRET": GOOD_SECRET,
        "DIGITIFY_ADMIN_USERNAME": "root",
        "DIGITIFY_ADMIN_PASSWORD": "a-real-password",
    }
    assert load_settings({**production, "DIGITIFY_ALLOW_REGISTRATION": "true"}).allow_registration
    assert not load_settings({**production, "DIGITIFY_ALLOW_REGISTRATION": "false"}).allow_registration


@pytest.mark.parametrize(
    "environ",
    [
        {"DIGITIFY_ENV": "staging"},
        {"DIGITIFY_MAX_UPLOAD_BYTES": "lots"},
        {"DIGITIFY_LOW_CONFIDENCE": "2"},
        {"DIGITIFY_TASK_RESULT_TTL": "0"},
        {"DIGITIFY_TASK_VISIBILITY_SECONDS": "soon"},
        {"DIGITIFY_DECIMAL_SEPARATOR": "dot"},
    ],
)
def test_bad_values_are_named(environ, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    name = next(iter(environ))
    with pytest.raises(ConfigError, match=name):
        load_settings(environ)


def test_async_tasks_default_to_a_local_redis_and_a_day_of_results(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = load_settings({"DIGITIFY_JWT_SECRET": GOOD_SECRET, "DIGITIFY_ADMIN_PASSWORD": "a-real-password"})
    assert (settings.redis_url, settings.task_result_ttl) == ("redis://127.0.0.1:6379/0", 86_400)
    assert settings.task_visibility_seconds == 600
    given = {"REDIS_URL": "redis://:pw@cache:6379/2", "DIGITIFY_TASK_RESULT_TTL": "60"}
    settings = load_settings({"DIGITIFY_JWT_SECRET": GOOD_SECRET, "DIGITIFY_ADMIN_PASSWORD": "pw-for-tests", **given})
    assert (settings.redis_url, settings.task_result_ttl) == ("redis://:pw@cache:6379/2", 60)


def test_the_decimal_separator_rule_defaults_to_auto(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    secrets = {"DIGITIFY_JWT_SECRET": GOOD_SECRET, "DIGITIFY_ADMIN_PASSWORD": "a-real-password"}
    assert load_settings(secrets).decimal_separator == "auto"
    assert load_settings({**secrets, "DIGITIFY_DECIMAL_SEPARATOR": " Comma "}).decimal_separator == "comma"


def test_tracing_is_skipped_unless_asked_for():
    assert tracing({}) == {"excluded_urls": [".*"]}
    assert tracing({"DIGITIFY_TRACING": "false"}) == {"excluded_urls": [".*"]}
    assert tracing({"DIGITIFY_TRACING": "true"}) == {}
    with pytest.raises(ConfigError, match="DIGITIFY_TRACING must be true or false"):
        tracing({"DIGITIFY_TRACING": "sometimes"})


def test_model_tag_comes_from_the_environment():
    assert model_tag({"DIGITIFY_MODEL": "digitify-crnn:abc"}) == "digitify-crnn:abc"


@pytest.mark.parametrize(("cores", "processes"), [(1, 1), (2, 2), (4, 4), (16, 4)])
def test_one_inference_process_per_core_at_most_four(cores, processes, monkeypatch, tmp_path):
    monkeypatch.setattr("service.core.config.os.cpu_count", lambda: cores)
    assert default_inference_processes() == processes
    monkeypatch.chdir(tmp_path)
    assert load_settings({}).inference_processes == processes
    assert load_settings({"DIGITIFY_INFERENCE_PROCESSES": "3"}).inference_processes == 3


def test_trusted_proxies_are_checked_and_none_by_default():
    assert trusted_proxies({}) == ""
    assert trusted_proxies({"DIGITIFY_TRUSTED_PROXIES": " 10.0.0.5, 10.1.0.0/16 "}) == "10.0.0.5,10.1.0.0/16"
    with pytest.raises(ConfigError, match="'\\*' is not an IP address or network"):
        trusted_proxies({"DIGITIFY_TRUSTED_PROXIES": "10.0.0.5,*"})


def test_the_log_is_kept_at_least_as_long_as_images(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert load_settings({}).log_retention_days == 365
    with pytest.raises(ConfigError, match="DIGITIFY_LOG_RETENTION_DAYS"):
        load_settings({"DIGITIFY_LOG_RETENTION_DAYS": "10", "DIGITIFY_IMAGE_RETENTION_DAYS": "30"})
    with pytest.raises(ConfigError, match="for ever"):
        load_settings({"DIGITIFY_LOG_RETENTION_DAYS": "400", "DIGITIFY_IMAGE_RETENTION_DAYS": "0"})
    assert load_settings({"DIGITIFY_LOG_RETENTION_DAYS": "0"}).log_retention_days == 0

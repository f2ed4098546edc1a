"""Settings come from the environment; production refuses missing or development secrets."""

from __future__ import annotations

import pytest

from service.config import (
    DEV_ADMIN_PASSWORD,
    DEV_JWT_SECRET,
    ConfigError,
    load_settings,
    model_tag,
)

GOOD_SECRET = "s" * 48


def test_development_defaults_run_with_no_configuration(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = load_settings({})
    assert settings.env == "development"
    assert settings.jwt_secret == DEV_JWT_SECRET
    assert settings.admin_password == DEV_ADMIN_PASSWORD
    assert settings.database_url == f"sqlite:///{tmp_path / 'predictions.db'}"
    assert settings.model_tag == "digitify-crnn:latest"


@pytest.mark.parametrize(
    ("environ", "complaint"),
    [
        ({}, "DIGITIFY_JWT_SECRET is not set"),
        ({"DIGITIFY_JWT_SECRET": DEV_JWT_SECRET}, "development default"),
        ({"DIGITIFY_JWT_SECRET": "short"}, "shorter than 32 bytes"),
        (
            {
                "DIGITIFY_JWT_SECRET": GOOD_SECRET,
                "DIGITIFY_ADMIN_USERNAME": "root",
                "DIGITIFY_ADMIN_PASSWORD": DEV_ADMIN_PASSWORD,
            },
            "DIGITIFY_ADMIN_PASSWORD is the development default",
        ),
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


@pytest.mark.parametrize(
    "environ",
    [{"DIGITIFY_ENV": "staging"}, {"DIGITIFY_MAX_UPLOAD_BYTES": "lots"}, {"DIGITIFY_LOW_CONFIDENCE": "2"}],
)
def test_bad_values_are_named(environ):
    name = next(iter(environ))
    with pytest.raises(ConfigError, match=name):
        load_settings(environ)


def test_model_tag_comes_from_the_environment():
    assert model_tag({"DIGITIFY_MODEL": "digitify-crnn:abc"}) == "digitify-crnn:abc"

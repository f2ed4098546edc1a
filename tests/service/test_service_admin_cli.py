"""``python -m service.admin``: creates or promotes an admin, or creates a user, in the configured database."""

from __future__ import annotations

import uuid

import pytest

from service.accounts.users import UserStore
from service.db.engine import make_engine, migrate, session_factory
from tests.service.harness import REPO, run_python


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'accounts.db'}"
    return request.getfixturevalue("postgres").create_database(f"cli_{uuid.uuid4().hex[:12]}")


def test_create_admin_then_promote_and_reset(database_url):
    env = {"DATABASE_URL": database_url, "DIGITIFY_ADMIN_PASSWORD": "first-password"}
    assert "created admin" in run_python(["-m", "service.admin", "create-admin", "boss"], env, cwd=REPO)
    again = run_python(
        ["-m", "service.admin", "create-admin", "boss"], {**env, "DIGITIFY_ADMIN_PASSWORD": "other-pw-1"}, cwd=REPO
    )
    assert "password unchanged" in again
    engine = make_engine(database_url)
    users = UserStore(session_factory(engine))
    assert users.authenticate("boss", "first-password").is_admin
    users.create("plain-user", "plain-password")
    reset = {**env, "DIGITIFY_ADMIN_PASSWORD": "new-password-2"}
    assert "password reset" in run_python(
        ["-m", "service.admin", "create-admin", "plain-user", "--reset-password"], reset, cwd=REPO
    )
    promoted = users.authenticate("plain-user", "new-password-2")
    assert promoted is not None and promoted.is_admin
    engine.dispose()


def test_bad_username_is_refused(tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'a.db'}", "DIGITIFY_ADMIN_PASSWORD": "long-enough-1"}
    with pytest.raises(RuntimeError, match="a username is 3 to 64 characters"):
        run_python(["-m", "service.admin", "create-admin", "no spaces"], env, cwd=REPO)


def test_create_user_makes_an_ordinary_account_once(database_url):
    env = {"DATABASE_URL": database_url, "DIGITIFY_USER_PASSWORD": "user-password-1"}
    assert "created user 'clerk'" in run_python(["-m", "service.admin", "create-user", "clerk"], env, cwd=REPO)
    with pytest.raises(RuntimeError, match="'clerk' already exists"):
        run_python(["-m", "service.admin", "create-user", "clerk"], env, cwd=REPO)
    engine = make_engine(database_url)
    account = UserStore(session_factory(engine)).authenticate("clerk", "user-password-1")
    assert account is not None and not account.is_admin
    engine.dispose()


def test_reset_password_changes_only_the_password_and_disable_stops_logins(database_url):
    engine = make_engine(database_url)
    migrate(engine)
    users = UserStore(session_factory(engine))
    users.create("worker", "first-password-1")
    env = {"DATABASE_URL": database_url, "DIGITIFY_USER_PASSWORD": "second-password-2"}
    assert "password reset" in run_python(["-m", "service.admin", "reset-password", "worker"], env, cwd=REPO)
    account = users.authenticate("worker", "second-password-2")
    assert account is not None and not account.is_admin  # not promoted
    assert "disabled" in run_python(["-m", "service.admin", "disable", "worker"], env, cwd=REPO)
    assert users.authenticate("worker", "second-password-2") is None
    assert "enabled" in run_python(["-m", "service.admin", "enable", "worker"], env, cwd=REPO)
    assert users.authenticate("worker", "second-password-2") is not None
    with pytest.raises(RuntimeError, match="no account is called 'ghost'"):
        run_python(["-m", "service.admin", "disable", "ghost"], env, cwd=REPO)
    engine.dispose()

"""Real parts for the service tests and the load benchmark: PostgreSQL, a model store, the server.

- ``PostgresServer``: a throw-away PostgreSQL cluster (Debian's binaries) on a random port,
  started with ``runuser -u postgres`` when running as root (initdb refuses root).
- ``prepare_model_store``: a temporary MLflow store where an untrained model file is logged,
  registered and given the ``champion`` alias, imported into a temporary BentoML home by the
  real ``python -m service.import_model``.
- ``ServiceProcess``: ``bentoml serve`` as a subprocess, waited on until ``/readyz`` answers.
- ``RedisServer``: a throw-away Debian ``redis-server`` on a random loopback port, in its own folder.
- ``WorkerProcess``: the async tasks' Celery worker (``scripts/worker.sh``), which can be killed.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import io
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
QUIET_ENV = {
    "NO_ALBUMENTATIONS_UPDATE": "1",
    "BENTOML_DO_NOT_TRACK": "True",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DVC_NO_ANALYTICS": "1",
    "DO_NOT_TRACK": "1",
}
ADMIN = ("admin", "admin-password-for-tests-1")
JWT_SECRET = "tests-secret-" + "x" * 40


def free_port() -> int:
    """Return a TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def postgres_bindir() -> Path | None:
    """Find Debian's PostgreSQL server binaries (any major version), or None."""
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(candidate) / "initdb").exists():
            return Path(candidate)
    return None


class PostgresServer:
    """A PostgreSQL cluster in a fresh temporary folder that can be started and stopped (to test outages).

    The folder is made directly under the system temp dir: pytest's own temp folders are private
    to root, and the server runs as the postgres user.
    """

    def __init__(self, bindir: Path) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="digitify-pg-"))
        self.bindir = bindir
        self.data = self.root / "data"
        self.sockets = self.root / "sockets"
        self.logfile = self.root / "postgres.log"
        self.port = free_port()
        self.as_postgres = os.geteuid() == 0

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run a PostgreSQL binary (as the postgres user when we are root)."""
        prefix = ["runuser", "-u", "postgres", "--"] if self.as_postgres else []
        return subprocess.run([*prefix, *args], check=check, capture_output=True, text=True, timeout=120)

    def init(self) -> None:
        """Create the cluster (trust auth on localhost only) and the ``digitify`` database."""
        self.sockets.mkdir(exist_ok=True)
        if self.as_postgres:
            shutil.chown(self.root, "postgres")
            shutil.chown(self.sockets, "postgres")
        self._run(str(self.bindir / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        self.start()
        self._run(str(self.bindir / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "digitify")

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.sockets} -c fsync=off"
        self._run(
            str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.logfile), "-o", options, "-w", "start"
        )

    def stop(self) -> None:
        """Stop the server now (fast shutdown: open connections are cut)."""
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop", check=False)

    def remove(self) -> None:
        """Stop the server and delete its folder."""
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def create_database(self, name: str) -> str:
        """Create another database; return its SQLAlchemy URL."""
        self._run(str(self.bindir / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name)
        return self.url(name)

    def url(self, database: str = "digitify") -> str:
        """The SQLAlchemy URL of a database on this server."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"


def run_python(args: list[str], env: dict[str, str], cwd: Path, timeout: int = 300) -> str:
    """Run ``python args`` with the repo on the path; return stdout (raise with stderr on failure)."""
    full_env = {**os.environ, **QUIET_ENV, "PYTHONPATH": str(REPO), **env}
    result = subprocess.run(
        [sys.executable, *args], env=full_env, cwd=cwd, capture_output=True, text=True, timeout=timeout
    )
    if result.returncode != 0:
        raise RuntimeError(f"python {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


REGISTER_SCRIPT = """
import shutil, sys, mlflow
from models.recognizer import random_model_file
from tests.configs import small_config
from models.registry import CHAMPION_ALIAS, MODEL_NAME, log_model_file
if len(sys.argv) > 2:
    path = shutil.copyfile(sys.argv[2], sys.argv[1])
else:
    path = random_model_file(sys.argv[1], small_config())
with mlflow.start_run():
    info = log_model_file(path)
version = mlflow.register_model(info.model_uri, MODEL_NAME).version
mlflow.MlflowClient().set_registered_model_alias(MODEL_NAME, CHAMPION_ALIAS, version)
print(version)
"""


def prepare_model_store(root: Path, model_file: Path | None = None) -> dict[str, str]:
    """Register a model as champion in a fresh MLflow store and import it into a fresh BentoML home.

    The model is ``model_file``, or an untrained model of the tests' small configuration. Returns
    the environment variables (``BENTOML_HOME``, ``MLFLOW_TRACKING_URI``) that point at them.
    """
    root.mkdir(parents=True, exist_ok=True)
    env = {
        "MLFLOW_TRACKING_URI": f"sqlite:///{root / 'mlflow.db'}",
        "BENTOML_HOME": str(root / "bentoml"),
    }
    source = [str(model_file.resolve())] if model_file is not None else []
    run_python(["-c", REGISTER_SCRIPT, str(root / "model.pt"), *source], env, cwd=root)
    run_python(["-m", "service.import_model"], env, cwd=root)
    return env


def log_tail(path: Path, chars: int = 6000) -> str:
    """The end of a subprocess's log file ('' before it exists)."""
    return path.read_text(errors="replace")[-chars:] if path.exists() else ""


def stop_process_group(process: subprocess.Popen[bytes] | None, grace_s: float) -> None:
    """Stop a subprocess started in its own session, and its children: SIGTERM, then SIGKILL after ``grace_s``."""
    if process is None or process.poll() is not None:
        return
    pgid = os.getpgid(process.pid)
    os.killpg(pgid, signal.SIGTERM)
    try:
        process.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        os.killpg(pgid, signal.SIGKILL)
        process.wait(timeout=10)


class ServiceProcess:
    """``bentoml serve`` in a subprocess (its own process group), with its log in a file."""

    def __init__(
        self, env: dict[str, str], cwd: Path, target: str = "service.service:Digitify", host: str = "127.0.0.1"
    ) -> None:
        self.port = free_port()
        self.host = host
        self.url = f"http://127.0.0.1:{self.port}"
        self.cwd = cwd
        self.log_path = cwd / f"serve-{self.port}.log"
        self.env = {**os.environ, **QUIET_ENV, "PYTHONPATH": str(REPO), **env}
        self.target = target
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 120) -> ServiceProcess:
        """Start the server and wait for ``/readyz``; raise with the log tail if it does not come up."""
        bentoml = str(Path(sys.executable).with_name("bentoml"))
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [bentoml, "serve", self.target, "--host", self.host, "--port", str(self.port)],
                cwd=self.cwd,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"bentoml serve exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"bentoml serve not ready after {timeout}s:\n{self.log_tail()}")

    def log_tail(self, chars: int = 6000) -> str:
        """The end of the server's log."""
        return log_tail(self.log_path, chars)

    def stop(self) -> None:
        """Stop the server's whole process group (SIGTERM, then SIGKILL)."""
        stop_process_group(self.process, grace_s=20)


def service_env(database_url: str, work: Path, model_env: dict[str, str]) -> dict[str, str]:
    """Environment for a test server: production mode, a real secret, the admin from the environment."""
    return {
        **model_env,
        "MLFLOW_TRACKING_URI": f"sqlite:///{work / 'no-training-store.db'}",
        "DIGITIFY_ENV": "production",
        "DIGITIFY_ALLOW_REGISTRATION": "true",  # production keeps it off unless told
        "DIGITIFY_JWT_SECRET": JWT_SECRET,
        "DIGITIFY_ADMIN_USERNAME": ADMIN[0],
        "DIGITIFY_ADMIN_PASSWORD": ADMIN[1],
        "DATABASE_URL": database_url,
        "DIGITIFY_SPOOL_PATH": str(work / "spool.db"),
        "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",  # no Redis: async tasks answer 503 unless a test starts one
        "DIGITIFY_MAX_UPLOAD_BYTES": str(1024 * 1024),
        "DIGITIFY_MAX_BATCH_IMAGES": "16",
        "DIGITIFY_USER_CACHE_SECONDS": "2",
        "DIGITIFY_TORCH_THREADS": "1",
        "DIGITIFY_INFERENCE_PROCESSES": "1",
        "DIGITIFY_KEEP_IMAGES": "true",
        "DIGITIFY_IMAGE_STORE": str(work / "images"),
    }


class RedisServer:
    """A ``redis-server`` on a free loopback port with its own folder, nothing saved; stopped and started at will."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="digitify-redis-"))
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 30) -> RedisServer:
        """Start the server and wait until it answers PING."""
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed (scripts/setup.sh installs Debian's)")
        options = ["--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.root), "--save", ""]
        options += ["--appendonly", "no", "--daemonize", "yes", "--pidfile", str(self.root / "redis.pid")]
        subprocess.run(
            [binary, *options, "--logfile", str(self.root / "redis.log")],
            check=True,
            timeout=30,
        )
        deadline = time.monotonic() + timeout
        while not self.answers():
            if time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not answer on port {self.port}")
            time.sleep(0.1)
        return self

    def answers(self) -> bool:
        """Whether the server answers PING now."""
        import redis

        try:
            return bool(redis.Redis.from_url(self.url, socket_connect_timeout=1).ping())
        except redis.exceptions.RedisError:
            return False

    def stop(self) -> None:
        """Stop the server now (what it holds is lost) and wait until its port is closed."""
        pid_file = self.root / "redis.pid"
        if not pid_file.exists():
            return
        pid = int(pid_file.read_text())
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        while self.answers() and time.monotonic() < deadline:
            time.sleep(0.1)
        with contextlib.suppress(FileNotFoundError):
            pid_file.unlink()

    def remove(self) -> None:
        """Stop the server and delete its folder."""
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


class WorkerProcess:
    """``scripts/worker.sh`` (the Celery worker) in its own process group, with its log in a file."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.env = {**os.environ, **QUIET_ENV, "PYTHONPATH": str(REPO), **env}
        self.cwd = cwd
        self.log_path = cwd / f"worker-{uuid.uuid4().hex[:8]}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 180) -> WorkerProcess:
        """Start a worker and wait until it has loaded the model and listens for tasks."""
        self.log_path = self.cwd / f"worker-{uuid.uuid4().hex[:8]}.log"
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                ["bash", str(REPO / "scripts" / "worker.sh"), "-n", f"digitify-test-{uuid.uuid4().hex[:8]}@%h"],
                cwd=self.cwd,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while "digitify worker ready" not in self.log_tail(100_000):
            if self.process.poll() is not None:
                raise RuntimeError(f"the worker exited with {self.process.returncode}:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"the worker was not ready after {timeout}s:\n{self.log_tail()}")
            time.sleep(0.3)
        return self

    def log_tail(self, chars: int = 6000) -> str:
        """The end of the worker's log."""
        return log_tail(self.log_path, chars)

    def kill(self) -> None:
        """Kill the worker's whole process group with SIGKILL (what it holds is not acknowledged)."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(os.getpgid(self.process.pid), signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """Stop the worker (SIGTERM: a warm shutdown), then SIGKILL if it lingers."""
        stop_process_group(self.process, grace_s=30)


def png_bytes(image: Image.Image) -> bytes:
    """Encode a PIL image as PNG bytes."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def login(url: str, username: str, password: str) -> str:
    """Log in and return the bearer token."""
    response = httpx.post(f"{url}/auth/login", json={"username": username, "password": password}, timeout=30)
    response.raise_for_status()
    return response.json()["access_token"]


def register(url: str, username: str, password: str) -> str:
    """Register a user and return its bearer token."""
    response = httpx.post(f"{url}/auth/register", json={"username": username, "password": password}, timeout=30)
    response.raise_for_status()
    return login(url, username, password)


def run_loop(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """Run a coroutine on an event loop in a thread of its own (the browser tests may hold this thread's)."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, coroutine).result()

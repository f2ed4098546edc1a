"""The per-process state the service, its middleware and its routes share.

One ``Runtime`` per worker process: settings, the database engine and sessions, accounts and their
cache, the tokens already verified, the limits on login attempts, the prediction logbook, the async
tasks' queue (Redis, through Celery), the live dashboard's events, tickets and feed, the kept
images, the web UI's files and the predictor every prediction route uses. The service builds it
whole in ``__init__`` (the predictor last, on the logbook it logs to); the ASGI middleware and the
FastAPI routes, which exist before the service instance, find it through :func:`current`.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy.exc import SQLAlchemyError

from service.accounts.throttle import AuthThrottle
from service.accounts.tokens import VerifiedTokens
from service.accounts.users import UserDirectory, UserStore
from service.core.config import Settings
from service.corrections.image_store import ImageStore
from service.corrections.keep_quota import KeepQuota
from service.corrections.retention import RetentionSweeper
from service.db.engine import database_identity, make_engine, migrate, session_factory
from service.http.web_files import web_folder
from service.live.events import PREDICTIONS, EventPublisher
from service.live.figures import LiveFigures, Mode, read_figures
from service.live.hub import LiveHub
from service.live.tickets import LiveTickets
from service.prediction.predictor import Predictor
from service.prediction.process import InferenceConfig
from service.predlog.logbook import Logbook
from service.predlog.spool import Spool
from service.tasks.queue import TaskQueue

logger = logging.getLogger(__name__)


class RuntimeNotReadyError(RuntimeError):
    """The service has not finished starting in this process."""


class Runtime:
    """Settings, database, accounts, logbook, image store and predictor of one worker process."""

    def __init__(self, settings: Settings, inference: InferenceConfig) -> None:
        self.settings = settings
        self.model_version = inference.model_version
        self.engine = make_engine(settings.database_url, settings.db_connect_timeout)
        self.sessions = session_factory(self.engine)
        self.users = UserStore(self.sessions)
        self.directory = UserDirectory(self.users, settings.user_cache_seconds)
        spool = Spool(settings.spool_path, owner=database_identity(settings.database_url, settings.spool_path.parent))
        self.logbook = Logbook(spool, self.engine, self.ensure_schema, settings.spool_max_rows)
        self.tasks = TaskQueue(settings)  # connects to Redis at first use
        self.events = EventPublisher(settings.redis_url)
        self.logbook.on_flushed = lambda rows: self.events.publish(PREDICTIONS, rows=rows)
        self.live_tickets = LiveTickets(settings.jwt_secret, self.tasks.client)
        self.live = LiveHub(settings.redis_url, self.read_live_figures)
        self.auth_throttle = AuthThrottle()
        self.tokens = VerifiedTokens(settings.jwt_secret)
        self.images = ImageStore(settings.image_store)
        self.retention = RetentionSweeper(
            self.images,
            self.sessions,
            settings.image_retention_days,
            self.ensure_schema,
            spooled=lambda: self.logbook.status().spooled_rows,
            log_days=settings.log_retention_days,
        )
        self.web = web_folder(settings.web_dir)
        self._schema_ready = False
        self._schema_lock = threading.Lock()
        quota = KeepQuota(settings.kept_mb_per_user_day * 1024 * 1024, self.images.root if self.images.local else None)
        self.predictor = Predictor(inference, self.logbook, settings.inference_processes, quota)  # loads the model

    def ensure_schema(self) -> None:
        """Apply migrations and create the first admin, once per process; raises while the DB is down."""
        if self._schema_ready:
            return
        with self._schema_lock:
            if self._schema_ready:
                return
            migrate(self.engine)
            self._bootstrap_admin()
            self._schema_ready = True

    def read_live_figures(self, mode: Mode) -> LiveFigures:
        """The live dashboard's figures now (blocking: the database and Redis)."""
        self.ensure_schema()
        return read_figures(self.sessions, self.tasks, self.settings.low_confidence, mode)

    def _bootstrap_admin(self) -> None:
        """Make the admin named by the environment exist with the environment's password."""
        username, password = self.settings.admin_username, self.settings.admin_password
        if not username or not password:
            return
        outcome = self.users.bootstrap_admin(username, password)
        if outcome == "created":
            logger.info("created admin %r from the environment", username)
        elif outcome == "updated":
            logger.warning("admin %r now has the environment's role and password; older tokens are revoked", username)
            self.directory.forget(username.lower())

    def start(self) -> None:
        """Prepare the database if it is reachable (else the flusher retries) and start the flusher."""
        try:
            self.ensure_schema()
        except SQLAlchemyError as exc:
            logger.warning("database unavailable at start-up, predictions are spooled until it is back: %s", exc)
        self.logbook.start()
        self.retention.start()

    def close(self) -> None:
        """Answer the model calls already queued, stop the flusher and release connections."""
        self.predictor.close()
        self.retention.stop()
        self.logbook.stop()
        self.logbook.spool.close()
        self.events.close()
        self.tasks.close()
        self.engine.dispose()


_current: Runtime | None = None


def install(runtime: Runtime) -> None:
    """Make ``runtime`` this process's runtime."""
    global _current
    _current = runtime


def current() -> Runtime:
    """Return this process's runtime; raise RuntimeNotReadyError before the service has started."""
    if _current is None:
        raise RuntimeNotReadyError("the service is starting")
    return _current

"""How many image bytes the service keeps: per user per day, and never the store's last free space.

Every readable upload is kept for the corrections loop (``DIGITIFY_KEEP_IMAGES``), so without a
bound one user could fill the disk. The worker asks :meth:`KeepQuota.allows` before an upload is
read (the inference process keeps it only if allowed) and :meth:`KeepQuota.record` after, with
the bytes actually kept. A user may have ``DIGITIFY_KEPT_MB_PER_USER_DAY`` megabytes kept per UTC
day; past that, their predictions are still answered and logged, their images are not kept. A
local store also stops keeping while its disk has less than ``MIN_FREE_BYTES`` free, so the spool
and the database (often on the same disk) keep their room. The counts live in the worker process.
"""

from __future__ import annotations

import shutil
import threading
import time
from datetime import UTC, datetime

MIN_FREE_BYTES = 1024**3
DISK_CHECK_SECONDS = 5.0


class KeepQuota:
    """Per-user daily bytes kept, and the store's free space, in one worker process."""

    def __init__(self, bytes_per_user_day: int, local_root: str | None) -> None:
        self.bytes_per_user_day = bytes_per_user_day
        self.local_root = local_root
        self._kept: dict[str, int] = {}
        self._day = _today()
        self._lock = threading.Lock()
        self._room = True
        self._room_checked = 0.0

    def allows(self, username: str | None) -> bool:
        """Whether the next image of ``username`` may be kept."""
        if not self._store_has_room():
            return False
        with self._lock:
            self._roll_day()
            return self._kept.get(username or "", 0) < self.bytes_per_user_day

    def record(self, username: str | None, nbytes: int) -> None:
        """Count ``nbytes`` kept for ``username`` today."""
        with self._lock:
            self._roll_day()
            key = username or ""
            self._kept[key] = self._kept.get(key, 0) + nbytes

    def _roll_day(self) -> None:
        """Start the counts afresh on a new UTC day (lock held)."""
        today = _today()
        if today != self._day:
            self._day, self._kept = today, {}

    def _store_has_room(self) -> bool:
        """Whether a local store's disk has ``MIN_FREE_BYTES`` free (checked every few seconds; remote: yes)."""
        if self.local_root is None:
            return True
        now = time.monotonic()
        if now - self._room_checked >= DISK_CHECK_SECONDS:
            try:
                self._room = shutil.disk_usage(self.local_root).free >= MIN_FREE_BYTES
            except FileNotFoundError:
                self._room = True  # nothing kept yet: the folder is made on the first image
            self._room_checked = now
        return self._room


def _today() -> str:
    """The current UTC day."""
    return datetime.now(UTC).date().isoformat()

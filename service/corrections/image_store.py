"""Where the service keeps the images of predictions, so a correction can become training data.

Images are stored exactly as uploaded, addressed by the SHA-256 of their bytes
(``<root>/<first two hex digits>/<sha256>``): the same image uploaded twice is stored once. The root
is a local folder or any fsspec URL (``s3://bucket/prefix``, ``gs://...``, ``memory://...``); the
store hands out each image's full URI, which is what a correction records and what the export reads.

In a local store an image is written to a temporary file, synced, renamed into place and its
folder synced: after a power cut it is there whole or not at all. Keeping an image that is already
there marks it as kept again (its modification time), so a retention sweep that decided to forget
it a moment before leaves it (``delete(..., unless_kept_since=...)``).
"""

from __future__ import annotations

import logging
import os
import re
import uuid
from collections.abc import Iterable

import fsspec
from fsspec.implementations.local import LocalFileSystem

SHA256 = re.compile(r"[0-9a-f]{64}")

logger = logging.getLogger(__name__)


class ImageStore:
    """Content-addressed image bytes on any fsspec filesystem."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.fs, self.root = fsspec.core.url_to_fs(url)
        self.local = isinstance(self.fs, LocalFileSystem)

    def path(self, sha256: str) -> str:
        """The path of an image inside the filesystem (raises ValueError for anything but a SHA-256 hex digest)."""
        if not SHA256.fullmatch(sha256):
            raise ValueError(f"not a SHA-256 hex digest: {sha256!r}")
        return f"{self.root.rstrip('/')}/{sha256[:2]}/{sha256}"

    def uri(self, sha256: str) -> str:
        """The image's full URI (``fsspec.open`` reads it; a plain path for a local store)."""
        path = self.path(sha256)
        return path if self.local else self.fs.unstrip_protocol(path)

    def put(self, sha256: str, data: bytes) -> None:
        """Store an image's bytes unless they are already there (a local file appears whole or not at all)."""
        path = self.path(sha256)
        if self.local:
            _put_local(path, data)
        elif not self.fs.exists(path):
            self.fs.pipe_file(path, data)

    def keep(self, sha256: str, data: bytes) -> bool:
        """Store an image, never raising: a store that fails must not fail the prediction. Return whether it is kept."""
        try:
            self.put(sha256, data)
        except Exception as error:
            logger.warning("could not keep image %s in %s: %s", sha256, self.url, error)
            return False
        return True

    def exists(self, sha256: str) -> bool:
        """Whether the image is stored."""
        return bool(self.fs.exists(self.path(sha256)))

    def get(self, sha256: str) -> bytes | None:
        """The image's bytes, or None when it is not stored."""
        try:
            return bytes(self.fs.cat_file(self.path(sha256)))
        except FileNotFoundError:
            return None

    def hashes(self) -> list[str]:
        """The SHA-256 of every stored image, sorted (files being written are not images yet)."""
        try:
            paths = self.fs.find(self.root)
        except FileNotFoundError:
            return []
        return sorted(name for name in (path.rsplit("/", 1)[-1] for path in paths) if SHA256.fullmatch(name))

    def delete(self, hashes: Iterable[str], unless_kept_since: float | None = None) -> int:
        """Remove images (those already gone are skipped); return how many were removed.

        ``unless_kept_since`` (a Unix time): in a local store, an image kept again since then stays.
        """
        removed = 0
        for sha256 in hashes:
            path = self.path(sha256)
            try:
                if self.local and unless_kept_since is not None and os.stat(path).st_mtime >= unless_kept_since:
                    continue
                self.fs.rm_file(path)
            except FileNotFoundError:
                continue
            removed += 1
        return removed


def _put_local(path: str, data: bytes) -> None:
    """Write ``data`` at ``path`` durably and atomically; if it is there already, mark it as kept now."""
    try:
        os.utime(path)
        return
    except FileNotFoundError:
        pass
    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    partial = f"{path}.{uuid.uuid4().hex}.partial"
    with open(partial, "wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    os.replace(partial, path)
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)

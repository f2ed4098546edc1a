"""The built web UI's folder, walked once: what it serves at ``/`` and which of its paths are public.

The FastAPI app mounts these files (``service.api.web``) and the auth middleware lets their URL
paths through without a token (``service.http.auth_middleware``); both ask :func:`web_folder`,
which reads the folder once per process.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

RESERVED_NAMES = frozenset(
    {"docs", "docs.json", "schema.json", "static_content", "metrics", "readyz", "livez", "healthz"}
)


@dataclass(frozen=True)
class WebFolder:
    """A built web UI: its ``index.html`` (None when not built), its top-level files and folders by URL path."""

    index: Path | None = None
    files: dict[str, Path] = field(default_factory=dict)
    folders: dict[str, Path] = field(default_factory=dict)

    @property
    def public_paths(self) -> frozenset[str]:
        """The URL paths of its top-level files (exact matches)."""
        return frozenset(self.files)

    @property
    def public_prefixes(self) -> tuple[str, ...]:
        """The URL prefixes of its folders (``/assets/``)."""
        return tuple(f"{path}/" for path in self.folders)


@functools.cache
def web_folder(web_dir: Path) -> WebFolder:
    """Walk ``web_dir`` once: its index and the files and folders it serves (reserved and hidden names skipped)."""
    if not web_dir.is_dir():
        return WebFolder()
    index = web_dir / "index.html"
    files, folders = {}, {}
    for entry in sorted(web_dir.iterdir()):
        if entry.name in RESERVED_NAMES or entry.name.startswith("."):
            continue
        if entry.is_dir():
            folders[f"/{entry.name}"] = entry
        elif entry.is_file():
            files[f"/{entry.name}"] = entry
    return WebFolder(index if index.is_file() else None, files, folders)

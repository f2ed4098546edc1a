"""Database URLs as the service writes them: ``postgres://`` and ``postgresql://`` mean psycopg 3.

The pipeline reads the service's database (the corrections export) but never imports the service,
so the same mapping lives here, with a form of the URL that is safe to print.
"""

from __future__ import annotations

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

PSYCOPG = "postgresql+psycopg://"


def normalize_url(url: str) -> str:
    """Map ``postgres://`` and ``postgresql://`` to the psycopg 3 driver; leave other URLs alone."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return PSYCOPG + url[len(prefix) :]
    return url


def display_url(url: str) -> str:
    """The normalized URL with its password masked, for messages and summaries."""
    try:
        return make_url(normalize_url(url)).render_as_string(hide_password=True)
    except ArgumentError:
        return "<not a database URL>"

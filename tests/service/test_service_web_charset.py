"""The web page's copy of the charset (``service/web/src/charset.ts``) is the model's (``models/charset.py``)."""

from __future__ import annotations

from models.charset import CHARSET
from tests.service.harness import REPO


def test_the_web_page_checks_corrections_against_the_models_charset():
    source = (REPO / "service" / "web" / "src" / "charset.ts").read_text()
    assert f'export const CHARSET = "{CHARSET}";' in source

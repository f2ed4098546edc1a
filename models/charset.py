"""The one place that knows Digitify's alphabet and how labels map to CTC classes.

Class 0 is the CTC blank; class ``i + 1`` is ``CHARSET[i]``. The alphabet: digits, ``.`` and ``,``
(decimal or thousands separators), the signs ``-`` and ``+``, ``e`` and ``×`` of scientific
notation, and ``^``, which is not drawn: the characters after it are a raised exponent
(``6.02×10^23``). ``models.number_value`` reads texts over it as numbers.

The alphabet only grows at its end: an older model file, trained for a prefix of it
(``EARLIER_CHARSETS``), keeps its classes' indices and still loads (``models.recognizer``).
"""

from __future__ import annotations

CHARSET = "0123456789.,-+e×^"
EARLIER_CHARSETS = ("0123456789.",)  # releases 1-4 read digits and the point
BLANK = 0
NUM_CLASSES = len(CHARSET) + 1

_INDEX = {char: i + 1 for i, char in enumerate(CHARSET)}


class LabelError(ValueError):
    """A label contains characters outside the charset, or is empty."""


def invalid_chars(label: str) -> str:
    """Return the characters of ``label`` that are not in the charset (empty if valid)."""
    return "".join(sorted({c for c in label if c not in _INDEX}))


def validate_label(label: str) -> str:
    """Return ``label`` unchanged if it is a non-empty string over the charset, else raise LabelError."""
    if not label:
        raise LabelError("label is empty")
    bad = invalid_chars(label)
    if bad:
        raise LabelError(f"label {label!r} has characters outside {CHARSET!r}: {bad!r}")
    return label


def encode(label: str) -> list[int]:
    """Map a label to CTC class indices (1-based; 0 is the blank)."""
    return [_INDEX[c] for c in validate_label(label)]


def decode(indices: list[int]) -> str:
    """Map CTC class indices (already collapsed, no blanks) back to text."""
    return "".join(CHARSET[i - 1] for i in indices)

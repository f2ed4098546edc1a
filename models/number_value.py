"""The value of a read number: a strict grammar over the reading's text, parsed with ``decimal.Decimal``.

A reading's ``text`` says what the image shows; its value is the number it means, as a normalized
decimal string (``"-12.5"``, ``"1250"``, ``"0.0015"``, ``"6.02e23"``), or no value with the reason
why the text is not a well-formed number. The grammar, over ``0-9 . , - + e ×`` and ``^`` (a raised
exponent follows it)::

    number    := sign? mantissa exponent? | sign? integer ("," | ".") "-"    # "125,-": decimals dashed out
    sign      := "-" | "+"
    mantissa  := integer (DECIMAL digits)? | DECIMAL digits
    integer   := digits | 1-3 digits (GROUP 3 digits)+      # grouped thousands
    exponent  := "e" sign? digits | "×10^" sign? digits
    (or a whole text "10^" sign? digits: ten to that power)

How a separator is read (``DECIMAL`` and ``GROUP``) follows one explicit rule, ``separator``:

- ``point``: ``.`` is the decimal separator, ``,`` only groups thousands.
- ``comma``: ``,`` is the decimal separator, ``.`` only groups thousands.
- ``auto`` decides from the text: with both, the last one is the decimal separator
  (``1,250.00``, ``1.250,00``); one that occurs more than once groups thousands (``1,250,000``); a
  lone ``.`` is a decimal point; a lone ``,`` groups thousands when exactly three digits follow it
  and the digits before it are 1-3 and not a lone ``0`` (``1,250`` is 1250), else it is a decimal
  comma (``12,50`` is 12.5, ``0,250`` is 0.25). The decision is reported with the value.

An amount written with its decimals dashed out (``12,-``, ``1,250.-``, ``1.250,-``) has the value
of its integer; the integer's thousands are grouped by the mark it holds (under ``auto``) or by the
rule's grouping mark, and ``decimal_separator`` names the mark before the dash. A lone trailing
``-`` (``12-``) stays refused.

The value is written positionally when its magnitude is between 1e-6 and 1e15, else as
``<mantissa>e<exponent>`` (trailing zeros dropped either way, ``-0`` is ``0``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

SeparatorRule = Literal["auto", "point", "comma"]
SEPARATOR_RULES: tuple[SeparatorRule, ...] = ("auto", "point", "comma")
TIMES = "×"
RAISED = "^"
MAX_EXPONENT_DIGITS = 4  # far beyond any physical quantity, far inside Decimal's range

_DIGITS = re.compile(r"[0-9]+")
_EXPONENT = re.compile(r"(?:e|×10\^)([+-]?)([0-9]*)")
_SEPARATOR_NAME = {".": "point", ",": "comma"}
DASHED_DECIMALS = (",-", ".-")


@dataclass(frozen=True)
class NumberValue:
    """What a text means: ``value`` (normalized decimal string) or ``error``, and how a separator was read.

    ``decimal_separator`` says how a ``.`` or ``,`` in the text was read: ``"point"`` (a point is the
    decimal separator, a comma groups thousands) or ``"comma"``; ``None`` when the text has neither
    (or no value).
    """

    value: str | None
    error: str | None = None
    decimal_separator: str | None = None


def parse_value(text: str, separator: SeparatorRule = "auto") -> NumberValue:
    """Parse ``text`` by the grammar above; never raises for a bad text (the ``error`` says why)."""
    if separator not in SEPARATOR_RULES:
        raise ValueError(f"separator must be one of {', '.join(SEPARATOR_RULES)}, got {separator!r}")
    try:
        return _parse(text, separator)
    except _RefusalError as refusal:
        return NumberValue(value=None, error=str(refusal))


class _RefusalError(ValueError):
    """The text is not a well-formed number (the message says why, in words a person reads)."""


def _parse(text: str, separator: SeparatorRule) -> NumberValue:
    if not text:
        raise _RefusalError("nothing was read")
    if text.startswith("10" + RAISED):  # "10²³": ten to a power, with no mantissa written
        _, exponent = _split_exponent("1" + TIMES + text)
        return NumberValue(value=format_decimal(Decimal(1).scaleb(exponent)))
    body, exponent = _split_exponent(text)
    sign = ""
    if body[:1] in "+-":
        sign, body = ("-" if body[0] == "-" else ""), body[1:]
    if not body:
        raise _RefusalError("a sign without a number after it")
    if body[0] in "+-":
        raise _RefusalError("two signs before the number")
    if body.endswith(DASHED_DECIMALS):
        return _dashed_amount(sign, body[:-2], body[-2], separator)
    if "+" in body or "-" in body:
        raise _RefusalError("a sign inside the number (only one, before it, is allowed)")
    if RAISED in body or TIMES in body:
        raise _RefusalError("a raised exponent is only read after ×10")
    decimal_mark = _decimal_mark(body, separator)
    integer, fraction = _split_decimal(body, decimal_mark)
    integer_digits = _integer_digits(integer, group_mark="," if decimal_mark == "." else ".", required=not fraction)
    mantissa = f"{sign}{integer_digits or '0'}.{fraction or '0'}"
    value = Decimal(mantissa).scaleb(exponent) if exponent else Decimal(mantissa)
    decided = _SEPARATOR_NAME[decimal_mark] if "." in body or "," in body else None
    return NumberValue(value=format_decimal(value), decimal_separator=decided)


def _dashed_amount(sign: str, integer: str, mark: str, separator: SeparatorRule) -> NumberValue:
    """The value of an amount written ``<integer>,-`` or ``<integer>.-``: its integer, grouping checked."""
    if not integer:
        raise _RefusalError("no digits before the dashed decimals")
    if "+" in integer or "-" in integer:
        raise _RefusalError("a sign inside the number (only one, before it, is allowed)")
    group_mark = {"point": ",", "comma": "."}.get(separator) or ("." if "." in integer else ",")
    if ("." if group_mark == "," else ",") in integer:
        raise _RefusalError("decimals before the dashed decimals (only an integer ends in ,- or .-)")
    digits = _integer_digits(integer, group_mark=group_mark, required=True)
    return NumberValue(value=format_decimal(Decimal(sign + digits)), decimal_separator=_SEPARATOR_NAME[mark])


def _split_exponent(text: str) -> tuple[str, int]:
    """The mantissa's text and the exponent (0 without one)."""
    marker = next((i for i, char in enumerate(text) if char in ("e", TIMES)), None)
    if marker is None:
        if RAISED in text:
            raise _RefusalError("a raised exponent is only read after ×10")
        return text, 0
    match = _EXPONENT.fullmatch(text, marker)
    if match is None:
        raise _RefusalError("the exponent is not written as e<digits> or ×10 with raised digits")
    if marker == 0:
        raise _RefusalError("an exponent without a mantissa")
    sign, digits = match.groups()
    if not digits:
        raise _RefusalError("an exponent without digits")
    if len(digits.lstrip("0")) > MAX_EXPONENT_DIGITS:
        raise _RefusalError(f"an exponent of more than {MAX_EXPONENT_DIGITS} digits")
    return text[:marker], int(f"{sign}{digits}")


def _decimal_mark(body: str, separator: SeparatorRule) -> str:
    """Which of ``.`` and ``,`` is the decimal separator in ``body`` under the rule (``auto`` decides)."""
    if separator != "auto":
        return "." if separator == "point" else ","
    points, commas = body.count("."), body.count(",")
    if points and commas:
        return "." if body.rfind(".") > body.rfind(",") else ","
    if points > 1:  # grouped thousands if they group by three, else two decimal points (refused)
        return "," if _grouped(body, ".") else "."
    if commas > 1:
        return "." if _grouped(body, ",") else ","
    if points:
        return "."
    if commas == 1:  # thousands when it groups by three, unless before it stands a lone 0
        return "." if _grouped(body, ",") and not body.startswith("0,") else ","
    return "."


def _grouped(integer: str, group_mark: str) -> bool:
    """Whether ``integer`` is 1-3 digits, then groups of exactly 3 digits after each ``group_mark``."""
    groups = integer.split(group_mark)
    lengths_ok = 1 <= len(groups[0]) <= 3 and all(len(group) == 3 for group in groups[1:])
    return lengths_ok and all(_DIGITS.fullmatch(group) for group in groups)


def _split_decimal(body: str, decimal_mark: str) -> tuple[str, str]:
    """The integer part (grouping marks still in it) and the fraction's digits."""
    if body.count(decimal_mark) > 1:
        raise _RefusalError(f"more than one decimal {_SEPARATOR_NAME[decimal_mark]}")
    if decimal_mark not in body:
        return body, ""
    integer, fraction = body.split(decimal_mark)
    if not fraction:
        raise _RefusalError(f"no digits after the decimal {_SEPARATOR_NAME[decimal_mark]}")
    if not _DIGITS.fullmatch(fraction):
        raise _RefusalError(f"a thousands separator after the decimal {_SEPARATOR_NAME[decimal_mark]}")
    return integer, fraction


def _integer_digits(integer: str, group_mark: str, required: bool) -> str:
    """The integer part's digits, its grouping checked (1-3 digits, then groups of exactly 3)."""
    if not integer:
        if required:
            raise _RefusalError("no digits")
        return ""
    if group_mark not in integer:
        if not _DIGITS.fullmatch(integer):
            raise _RefusalError("no digits")
        return integer
    if not _grouped(integer, group_mark):
        raise _RefusalError(f"thousands are not grouped by three (a {_SEPARATOR_NAME[group_mark]} out of place)")
    return integer.replace(group_mark, "")


def format_decimal(value: Decimal) -> str:
    """``value`` as a normalized decimal string: positional between 1e-6 and 1e15, else ``<m>e<exp>``."""
    if value.is_zero():
        return "0"
    normal = value.normalize()
    adjusted = normal.adjusted()
    if -7 < adjusted < 16:
        return format(normal, "f")
    sign, digits, _ = normal.as_tuple()
    mantissa = str(digits[0]) + ("." + "".join(map(str, digits[1:])) if len(digits) > 1 else "")
    return f"{'-' if sign else ''}{mantissa}e{adjusted}"

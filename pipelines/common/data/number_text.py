"""Sample realistic number strings ("7", "1000", "0.5", "12.75", "3.14159") for every data source,
write them in the forms people use ("-12.5", "12,50", "1,250.00", "1.5e-3", "6.02×10^23"), and
write amounts as forms show them ("1,250", "125,-").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

# The written forms beside plain numbers, each with its own test set (pipelines.number_forms).
FORMS = ("signed", "decimal_comma", "thousands", "sci_e", "sci_raised")


def sample_number(
    rng: np.random.Generator,
    min_length: int = 1,
    max_length: int = 10,
    decimal_fraction: float = 0.35,
) -> str:
    """Return a number string of ``min_length``..``max_length`` characters (the point counts).

    Integers have no leading zero; about ``decimal_fraction`` of the strings that are long
    enough carry one decimal point, mostly with one or two decimals and a ``0`` integer
    part now and then. Round numbers ("1000") and repeated digits ("1111") are over-sampled
    because CTC needs blanks between repeats.
    """
    length = int(rng.integers(min_length, max_length + 1))
    if length >= 3 and rng.random() < decimal_fraction:
        decimals = int(rng.choice([1, 2, 2, 3, length - 2])) if length > 3 else 1
        decimals = min(max(decimals, 1), length - 2)
        whole_length = length - 1 - decimals
        whole = "0" if whole_length == 1 and rng.random() < 0.3 else _integer(rng, whole_length)
        return f"{whole}.{_digits(rng, decimals)}"
    return _integer(rng, length)


def sample_text(
    rng: np.random.Generator,
    min_length: int,
    max_length: int,
    decimal_fraction: float,
    forms: Mapping[str, float] | None = None,
) -> str:
    """A number as a source writes it: in one of ``forms`` (a share of the numbers for each name of
    :data:`FORMS`), else plain from :func:`sample_number`. With no share above 0 it draws exactly what
    :func:`sample_number` draws, so sources without forms write what they always wrote.
    """
    shares = [float((forms or {}).get(form, 0.0)) for form in FORMS]
    if sum(shares) > 0:
        pick = rng.random()
        for form, bound in zip(FORMS, np.cumsum(shares), strict=True):
            if pick < bound:
                return write_form(form, rng, min_length, max_length)
    return sample_number(rng, min_length, max_length, decimal_fraction)


def in_form(settings: Mapping[str, Any], form: str, index: int) -> dict[str, Any]:
    """A source's settings made to write every number in ``form``, with a seed of that form's own."""
    return {**settings, "forms": {form: 1.0}, "seed": int(settings["seed"]) * 100 + 1 + index}


def text_for(rng: np.random.Generator, settings: Mapping[str, Any]) -> str:
    """A number as a source's settings ask for it: :func:`sample_text` with their ``min_length``,
    ``max_length``, ``decimal_fraction`` and ``forms`` (no forms where it is missing or None).
    """
    return sample_text(
        rng,
        int(settings["min_length"]),
        int(settings["max_length"]),
        settings["decimal_fraction"],
        settings.get("forms"),
    )


def write_form(form: str, rng: np.random.Generator, min_length: int = 1, max_length: int = 8) -> str:
    """A number written in ``form`` (one of :data:`FORMS`), about ``min_length``..``max_length`` digits long.

    - ``signed``: ``-`` (three in four) or ``+`` before a plain number: ``-12.5``, ``+3``.
    - ``decimal_comma``: one or two decimals after a comma: ``12,5``, ``0,75`` (never three, which
      reads as thousands).
    - ``thousands``: 4 or more integer digits grouped by ``,`` (``1,250``, ``1,250.00``), or by ``.``
      with a decimal comma or several groups (``1.250,00``, ``2.500.000``).
    - ``sci_e``: ``1.5e-3``, ``6.02e23``, ``3e8``.
    - ``sci_raised``: ``6.02×10^23``, ``1.6×10^-19``, or a bare power of ten ``10^-4``.
    """
    if form == "signed":
        sign = "-" if rng.random() < 0.75 else "+"
        return sign + sample_number(rng, min_length, max(min_length, max_length - 1), 0.4)
    if form == "decimal_comma":
        whole_length = int(rng.integers(1, max(2, max_length - 2)))
        whole = "0" if whole_length == 1 and rng.random() < 0.3 else _integer(rng, whole_length)
        return f"{whole},{_digits(rng, int(rng.choice([1, 2, 2])))}"
    if form == "thousands":
        return _grouped(rng, int(rng.integers(4, max(5, min(max_length, 10) + 1))))
    if form == "sci_e":
        sign = str(rng.choice(["", "-", "-", "+"]))
        return f"{_mantissa(rng)}e{sign}{_exponent(rng)}"
    if form == "sci_raised":
        sign = "-" if rng.random() < 0.4 else ""
        mantissa = "" if rng.random() < 0.15 else f"{_mantissa(rng)}×"
        return f"{mantissa}10^{sign}{_exponent(rng)}"
    raise ValueError(f"unknown form {form!r}: one of {', '.join(FORMS)}")


def _grouped(rng: np.random.Generator, whole_length: int) -> str:
    """An integer of ``whole_length`` digits in groups of three, maybe with two decimals."""
    whole = _integer(rng, whole_length)
    groups = [whole[max(0, end - 3) : end] for end in range(len(whole), 0, -3)][::-1]
    decimals = _digits(rng, 2) if rng.random() < 0.4 else ""
    if rng.random() < 0.3 and (decimals or len(groups) > 2):  # continental: 1.250,00 or 2.500.000
        return ".".join(groups) + (f",{decimals}" if decimals else "")
    return ",".join(groups) + (f".{decimals}" if decimals else "")


def _mantissa(rng: np.random.Generator) -> str:
    """A scientific mantissa: one non-zero digit, then (mostly) a point and one to three digits."""
    first = str(rng.integers(1, 10))
    return first if rng.random() < 0.25 else f"{first}.{_digits(rng, int(rng.integers(1, 4)))}"


def _exponent(rng: np.random.Generator) -> str:
    """An exponent's digits: one or two, no leading zero."""
    return str(rng.integers(1, 10)) if rng.random() < 0.5 else str(rng.integers(10, 35))


def _integer(rng: np.random.Generator, length: int) -> str:
    """An integer of ``length`` digits with no leading zero (a lone ``0`` allowed)."""
    style = rng.random()
    first = str(rng.integers(1, 10)) if length > 1 else str(rng.integers(0, 10))
    if length > 1 and style < 0.1:
        return first + "0" * (length - 1)
    if length > 1 and style < 0.15:
        return first * length
    return first + _digits(rng, length - 1)


def _digits(rng: np.random.Generator, count: int) -> str:
    """``count`` uniformly random digits."""
    return "".join(str(d) for d in rng.integers(0, 10, size=count))


DASH_ENDINGS = (",-", ".-")
"""How an integer amount's missing decimals are dashed out: ``125,-`` (60 %) or ``125.-``."""


def as_written(number: str, rng: np.random.Generator, comma_fraction: float, dash_fraction: float) -> str:
    """``number`` as written on a form, and the label of its image: thousands commas in a long integer
    part (``comma_fraction`` of those) and, on integers, a trailing ``,-`` or ``.-`` (``dash_fraction``).

    The marks are part of the text (``1,250.00``, ``125,-``): labels say what the image shows, and the
    text parses (:func:`models.number_value.parse_value`) to the value of ``number``.
    """
    whole, point, decimals = number.partition(".")
    if len(whole) >= 4 and rng.random() < comma_fraction:
        groups = [whole[max(0, end - 3) : end] for end in range(len(whole), 0, -3)][::-1]
        whole = ",".join(groups)
    written = whole + point + decimals
    if not point and rng.random() < dash_fraction:
        written += DASH_ENDINGS[0] if rng.random() < 0.6 else DASH_ENDINGS[1]
    return written

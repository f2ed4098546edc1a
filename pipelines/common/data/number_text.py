"""Sample realistic number strings ("7", "1000", "0.5", "12.75", "3.14159") for every data source,
and write them as people write amounts ("1,250", "125,-"): with marks that are not part of the number.
"""

from __future__ import annotations

import numpy as np


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


MARKS = ",-"


def as_written(number: str, rng: np.random.Generator, comma_fraction: float, dash_fraction: float) -> str:
    """``number`` as written on a form: thousands commas in a long integer part (``comma_fraction`` of
    those) and, on integers, a trailing ``,-`` or ``-`` (``dash_fraction``). :func:`label_of` undoes it.
    """
    whole, point, decimals = number.partition(".")
    if len(whole) >= 4 and rng.random() < comma_fraction:
        groups = [whole[max(0, end - 3) : end] for end in range(len(whole), 0, -3)][::-1]
        whole = ",".join(groups)
    written = whole + point + decimals
    if not point and rng.random() < dash_fraction:
        written += ",-" if rng.random() < 0.6 else "-"
    return written


def label_of(written: str) -> str:
    """The label of a written amount: the number without its marks."""
    return "".join(char for char in written if char not in MARKS)

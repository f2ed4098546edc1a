"""The value of a reading's text: every rule of the grammar, the separator rules, and the refusals."""

from __future__ import annotations

from decimal import Decimal

import pytest

from models.number_value import format_decimal, parse_value


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("7", "7"),
        ("123", "123"),
        ("007", "7"),
        ("45.67", "45.67"),
        ("12.50", "12.5"),
        (".5", "0.5"),
        ("-12.5", "-12.5"),
        ("+3", "3"),
        ("-0", "0"),
        ("-0.00", "0"),
        ("1e3", "1000"),
        ("1.5e-3", "0.0015"),
        ("-2.5e+2", "-250"),
        ("6.02×10^23", "6.02e23"),
        ("1.6×10^-19", "1.6e-19"),
        ("10^23", "1e23"),
        ("10^-3", "0.001"),
        ("0.000001", "0.000001"),
        ("0.0000001", "1e-7"),
        ("1000000000000000", "1000000000000000"),
        ("10000000000000000", "1e16"),
    ],
)
def test_well_formed_numbers_have_their_normalized_value(text: str, value: str) -> None:
    assert parse_value(text).value == value
    assert parse_value(text).error is None


@pytest.mark.parametrize(
    ("text", "value", "decided"),
    [
        ("1,250.00", "1250", "point"),  # both marks: the last one is the decimal separator
        ("1.250,00", "1250", "comma"),
        ("1,250,000", "1250000", "point"),  # one mark, several times, grouping by three: thousands
        ("1.250.000", "1250000", "comma"),
        ("1,250", "1250", "point"),  # a lone comma with three digits after 1-3 digits: thousands
        ("12,50", "12.5", "comma"),  # a lone comma with other than three digits after it: decimal
        ("0,250", "0.25", "comma"),  # ... or after a lone 0
        ("1234,567", "1234.567", "comma"),  # ... or after more than three digits
        ("12.5", "12.5", "point"),  # a lone point is a decimal point
        ("1.250", "1.25", "point"),
        ("-1.250,5e3", "-1250500", "comma"),
        ("42", "42", None),  # no separator: nothing to decide
    ],
)
def test_auto_reads_a_separator_by_the_documented_rule_and_reports_it(text: str, value: str, decided: str) -> None:
    parsed = parse_value(text, "auto")
    assert (parsed.value, parsed.decimal_separator) == (value, decided)


@pytest.mark.parametrize(
    ("text", "point", "comma"),
    [
        ("12,50", None, "12.5"),
        ("1,250", "1250", "1.25"),
        ("1.250", "1.25", "1250"),
        ("1,250.5", "1250.5", None),
        ("1.250,5", None, "1250.5"),
    ],
)
def test_an_explicit_rule_overrides_auto(text: str, point: str | None, comma: str | None) -> None:
    assert parse_value(text, "point").value == point
    assert parse_value(text, "comma").value == comma


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "nothing was read"),
        ("--5", "two signs"),
        ("+-5", "two signs"),
        ("-", "a sign without a number"),
        ("5-", "a sign inside the number"),
        ("1-2", "a sign inside the number"),
        ("1.2.3", "more than one decimal point"),
        ("1,2,3", "more than one decimal comma"),
        ("5.", "no digits after the decimal point"),
        (".", "no digits after the decimal point"),
        ("e5", "an exponent without a mantissa"),
        ("×10^3", "an exponent without a mantissa"),
        ("5e", "an exponent without digits"),
        ("5e-", "an exponent without digits"),
        ("6.02×10", "not written as e<digits> or ×10 with raised digits"),
        ("6.02×3^2", "not written as e<digits> or ×10 with raised digits"),
        ("5e3e2", "not written as e<digits> or ×10 with raised digits"),
        ("5^3", "a raised exponent is only read after ×10"),
        ("1,25,000", "more than one decimal comma"),  # auto: commas that do not group by three
        ("12,5.5", "thousands are not grouped by three"),
        ("1.5,25", "thousands are not grouped by three"),
        ("5e99999", "an exponent of more than 4 digits"),
        # dashed decimals only follow an integer
        ("12-", "a sign inside the number"),  # a lone trailing dash stays refused
        ("1,250-", "a sign inside the number"),
        (",-", "no digits before the dashed decimals"),
        ("-,-", "no digits before the dashed decimals"),
        ("12.5,-", "thousands are not grouped by three"),  # auto: a point before ",-" groups (1.250,-)
        ("1,250.5.-", "decimals before the dashed decimals"),
        ("1,25,-", "thousands are not grouped by three"),
        ("1e3,-", "not written as e<digits> or ×10 with raised digits"),
        ("12,--", "a sign inside the number"),
    ],
)
def test_malformed_texts_have_no_value_and_say_why(text: str, reason: str) -> None:
    parsed = parse_value(text)
    assert parsed.value is None
    assert parsed.error is not None and reason in parsed.error


@pytest.mark.parametrize(("text", "rule"), [("1,25,000", "point"), ("1.25.000", "comma"), ("1234,567", "point")])
def test_an_explicit_rule_refuses_thousands_not_grouped_by_three(text: str, rule: str) -> None:
    parsed = parse_value(text, rule)  # type: ignore[arg-type]
    assert parsed.value is None
    assert parsed.error is not None and "thousands are not grouped by three" in parsed.error


@pytest.mark.parametrize(
    ("text", "value", "decided"),
    [
        ("12,-", "12", "comma"),
        ("125.-", "125", "point"),
        ("1,250.-", "1250", "point"),
        ("1,250,-", "1250", "comma"),
        ("1.250,-", "1250", "comma"),
        ("1,250,000,-", "1250000", "comma"),
        ("-40,-", "-40", "comma"),
    ],
)
def test_an_amount_with_dashed_decimals_has_the_value_of_its_integer(text: str, value: str, decided: str) -> None:
    parsed = parse_value(text)
    assert (parsed.value, parsed.error, parsed.decimal_separator) == (value, None, decided)


def test_dashed_decimals_under_an_explicit_rule_group_by_its_grouping_mark() -> None:
    assert parse_value("1,250.-", "point").value == "1250"
    assert parse_value("1.250,-", "comma").value == "1250"
    assert parse_value("1.250,-", "point").value is None  # a point is the decimal point: not an integer


def test_an_unknown_separator_rule_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="auto, point, comma"):
        parse_value("1", "dot")  # type: ignore[arg-type]


def test_values_are_exact_decimals_never_floats() -> None:
    # 0.1 + 0.2 style drift would show in a float round trip of a long mantissa
    assert parse_value("123456789012.345678").value == "123456789012.345678"
    assert Decimal(parse_value("0.1e1").value) == Decimal(1)
    assert format_decimal(Decimal("-1.2300E+5")) == "-123000"

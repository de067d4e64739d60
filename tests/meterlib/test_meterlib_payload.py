"""Reading MQTT and HTTP payloads: plain numbers, JSON under its many names, paths."""

import pytest

from custom_components.energy_meters.meterlib.http_meter import parse_headers
from custom_components.energy_meters.meterlib.payload import (
    EnergyUnit,
    Field,
    PayloadError,
    PayloadFormat,
    PowerUnit,
    follow,
    parse,
    valid_path,
)

W = PayloadFormat()
KW = PayloadFormat(power_unit=PowerUnit.KW, energy_unit=EnergyUnit.WH)


@pytest.mark.parametrize(
    ("payload", "fmt", "expected"),
    [
        ("1234.5", W, 1234.5),
        (" 2.5\n", KW, 2500.0),
        ('"17"', W, 17.0),  # a number sent as a JSON string
        ("-300", W, -300.0),  # export
    ],
)
def test_plain_number_is_the_topics_one_value(
    payload: str, fmt: PayloadFormat, expected: float
) -> None:
    """A bare number on a power topic, in the unit chosen for bare values."""
    assert parse(payload, {Field.POWER}, fmt) == {Field.POWER: expected}


def test_plain_energy_in_wh_becomes_kwh() -> None:
    """Plain energy in wh becomes kwh."""
    assert parse("1500", {Field.ENERGY}, KW) == {Field.ENERGY: 1.5}


def test_json_with_the_issue_example_names() -> None:
    """`power_kw` says its unit itself, whatever the setting; voltage is as sent."""
    values = parse('{"power_kw": 25.5, "voltage": 230.2}', set(Field), W)
    assert values == {Field.POWER: 25500.0, Field.VOLTAGE: 230.2}


@pytest.mark.parametrize(
    ("document", "fmt", "power", "energy"),
    [
        ('{"power": 800, "energy": 12.5}', W, 800.0, 12.5),
        ('{"power": 0.8, "energy": 12500}', KW, 800.0, 12.5),
        ('{"activePower": 800, "totalEnergy": 12.5}', W, 800.0, 12.5),
        ('{"power_w": 800, "energy_wh": 12500}', KW, 800.0, 12.5),
        ('{"power_kw": 0.8, "energy_kwh": 12.5}', KW, 800.0, 12.5),
    ],
)
def test_json_names_and_units(
    document: str, fmt: PayloadFormat, power: float, energy: float
) -> None:
    """Json names and units."""
    values = parse(document, {Field.POWER, Field.ENERGY}, fmt)
    assert values == {Field.POWER: power, Field.ENERGY: energy}


def test_all_the_other_quantities() -> None:
    """All the other quantities."""
    document = '{"current": 3.5, "powerFactor": 0.93, "freq": 49.98, "voltage": "231"}'
    assert parse(document, set(Field), W) == {
        Field.CURRENT: 3.5,
        Field.POWER_FACTOR: 0.93,
        Field.FREQUENCY: 49.98,
        Field.VOLTAGE: 231.0,
    }


def test_paths_reach_any_shape() -> None:
    """Paths reach any shape."""
    document = '{"data": {"meters": [{"readings": {"p": 1200, "e": 3400}}]}}'
    fmt = PayloadFormat(
        energy_unit=EnergyUnit.WH,
        paths={
            Field.POWER: "$.data.meters[0].readings.p",
            Field.ENERGY: "data.meters[0].readings.e",
        },
    )
    assert parse(document, {Field.POWER, Field.ENERGY}, fmt) == {
        Field.POWER: 1200.0,
        Field.ENERGY: 3.4,
    }


def test_a_missing_path_says_where_it_stopped() -> None:
    """A missing path says where it stopped."""
    with pytest.raises(PayloadError, match=r"\$\.data has no item \[1\]"):
        follow({"data": [1]}, "data[1]")
    with pytest.raises(PayloadError, match=r"\$ has no key 'power'"):
        parse('{"p": 1}', {Field.POWER}, PayloadFormat(paths={Field.POWER: "power"}))


@pytest.mark.parametrize(
    ("path", "valid"),
    [
        ("power", True),
        ("$.data.meters[0].p", True),
        ("[0].power", True),
        ("data..p", False),
        ("data[x]", False),
        ("", False),
    ],
)
def test_valid_path(path: str, valid: bool) -> None:
    """Valid path."""
    assert valid_path(path) is valid


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ("", "empty"),
        ("<html><body>Login</body></html>", "HTML"),
        ("{not json", "neither a number nor JSON"),
        ('{"power": "n/a"}', "'n/a', not a number"),
        ('{"power": true}', "true, not a number"),
        ('{"power": null}', "null, not a number"),
        ("NaN", "not a finite number"),
        ('{"temperature": 21}', "none of power found"),
        ("[1, 2]", "none of power found"),
    ],
)
def test_unreadable_payloads_say_why(payload: str, message: str) -> None:
    """Never a 0: each broken payload is an error that names the problem."""
    with pytest.raises(PayloadError, match=message):
        parse(payload, {Field.POWER}, W)


def test_a_plain_number_on_a_shared_topic_is_ambiguous() -> None:
    """A plain number on a shared topic is ambiguous."""
    with pytest.raises(PayloadError, match="cannot say which of energy, power"):
        parse("5", {Field.POWER, Field.ENERGY}, W)


def test_headers_one_per_line() -> None:
    """Headers one per line."""
    assert parse_headers("X-Api-Key: abc\n\nAccept-Language:  de \n") == {
        "X-Api-Key": "abc",
        "Accept-Language": "de",
    }
    with pytest.raises(ValueError, match="line 2"):
        parse_headers("A: b\nno colon here")
    with pytest.raises(ValueError, match="line 1"):
        parse_headers("Bad Name: x")

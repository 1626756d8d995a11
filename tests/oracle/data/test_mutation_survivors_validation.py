"""Tests written for mutants of oracle/validation.py that `make mutation` found alive on a sample
(docs/testing.md, "Scores"): each names the mutant it kills."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from data_world import NOW, World, build_world

from lec.db.enums import AnomalyReason, FlowQuantity
from lec.db.session import get_engine, init_db
from oracle.ingest.store import load_catalogue
from oracle.validation import Catalogue, DeviceInfo, Reading, Rejection, validate


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(init_db(get_engine(f"sqlite:///{Path(tempfile.mkdtemp()) / 'lec.db'}")))


def _reading(world: World, **fields) -> dict:
    at = NOW - timedelta(hours=1)
    return {"device": world.pods["load"], "timestamp": at.isoformat(), "energy_wh": 12.0, **fields}


def test_a_reading_for_a_community_with_a_higher_id_than_its_devices_is_refused(world: World) -> None:
    """Mutant `community_id != info.community_id` → `<`: only a community id below the device's was refused.
    The second community of the world exists and has the next id."""
    catalogue = load_catalogue(world.engine)
    other = world.community_id + 1
    assert other in catalogue.communities
    refused = validate(_reading(world), catalogue, NOW, community=other)
    assert isinstance(refused, Rejection) and refused.reason == AnomalyReason.UNKNOWN_DEVICE
    assert f"is not registered in community {other}" in refused.message
    assert isinstance(validate(_reading(world), catalogue, NOW, community=world.community_id), Reading)


@pytest.mark.parametrize(
    ("field", "value", "accepted"),
    [
        ("voltage_v", 230.0, True),
        ("voltage_v", 0.0, True),
        ("voltage_v", 1000.0, True),
        ("voltage_v", -0.5, False),
        ("voltage_v", 1000.5, False),
        ("current_a", -12.5, True),
        ("current_a", -1000.5, False),
        ("charge_status", 55.0, True),
        ("charge_status", 100.5, False),
    ],
)
def test_voltage_current_and_charge_within_their_physical_ranges(world: World, field, value, accepted) -> None:
    """Mutants of `not lo <= value <= hi` (`<=` → `==` either side, `not` dropped): a value inside the range,
    not at its ends, was never sent."""
    result = validate(_reading(world, **{field: value}), load_catalogue(world.engine), NOW)
    assert isinstance(result, Reading) is accepted, result
    if not accepted:
        assert isinstance(result, Rejection) and result.reason == AnomalyReason.OUT_OF_BOUNDS
        assert f"'{field}' {value} is outside the physical range" in result.message


def test_a_negative_load_is_told_that_load_is_positive(world: World) -> None:
    """Mutant `"positive (load +)" if sign > 0` → `if sign == 0`: the sentence named the wrong sign."""
    refused = validate(_reading(world, energy_wh=-5.0), load_catalogue(world.engine), NOW)
    assert isinstance(refused, Rejection) and refused.reason == AnomalyReason.SIGN_VIOLATION
    assert "positive (load +)" in refused.message and "negative" not in refused.message


def test_a_refused_payload_with_a_nan_is_kept_as_json_text() -> None:
    """Mutant `allow_nan=True` → `False` in `payload_text`: the stored payload fell back to Python's repr."""
    rejection = Rejection(AnomalyReason.MALFORMED, "m", {"energy_wh": float("nan"), "device": "IT001"})
    assert rejection.payload_text() == '{"energy_wh": NaN, "device": "IT001"}'


# ---- found by the full run of 2026-11-30 (docs/testing.md, "Scores") ----

_POD = "IT001E00000001"
_OTHER = "IT001E00000002"


def _catalogue(quantity: FlowQuantity = FlowQuantity.EXCHANGE, max_power_w: float | None = 3000.0) -> Catalogue:
    """One device (id 11, community 3, flow 21) of the given quantity and maximum power, written by hand."""
    info = DeviceInfo(11, _POD, 3, 21, frozenset({21}), max_power_w=max_power_w)
    return Catalogue(communities={3, 4}, devices={_POD: info}, flows={21: quantity})


def _raw(**fields) -> dict:
    return {"device": _POD, "timestamp": (NOW - timedelta(hours=1)).isoformat(), "energy_wh": 12.0, **fields}


@pytest.mark.parametrize(
    ("power", "accepted"),
    [
        (1500.0, True),
        (3000.0, True),
        (-3000.0, True),
        (-2999.0, True),
        (3000.5, False),
        (-3000.5, False),
        (-9e6, False),
    ],
)
def test_active_power_within_the_devices_maximum_either_way_is_accepted(power: float, accepted: bool) -> None:
    """Mutant `abs(power) > info.max_power_w` → `<` (every power under the maximum refused, above accepted);
    also `>=` (the maximum itself refused) and a dropped `abs` (an injection of any power accepted). An
    exchange meter's power is + withdrawing, − injecting: both directions are bounded by the same 3 kW."""
    result = validate(_raw(power_active_w=power), _catalogue(), NOW)
    assert isinstance(result, Reading) is accepted, result
    if accepted:
        assert isinstance(result, Reading) and result.power_active_w == power
    else:
        assert isinstance(result, Rejection) and result.reason == AnomalyReason.OUT_OF_BOUNDS
        assert result.message == f"'power_active_w' {power} exceeds the maximum power of device '{_POD}', 3000.0 W."


def test_a_device_without_a_maximum_power_takes_any_power() -> None:
    result = validate(_raw(power_active_w=1e7), _catalogue(max_power_w=None), NOW)
    assert isinstance(result, Reading) and result.power_active_w == 1e7


def test_a_refused_reading_of_a_known_device_names_the_device_and_its_community() -> None:
    """Mutants `… if device_ref else None` → `if not device_ref` in `_known_id` and `_known_community`: the
    anomaly of a registered device (here a reading from the future) lost its device and community, so the
    community's admin never saw it."""
    refused = validate(_raw(timestamp=(NOW + timedelta(hours=1)).isoformat()), _catalogue(), NOW)
    assert isinstance(refused, Rejection) and refused.reason == AnomalyReason.FUTURE_TIMESTAMP
    assert (refused.device_ref, refused.device_id, refused.community_id) == (_POD, 11, 3)
    unknown = validate({**_raw(), "device": _OTHER}, _catalogue(), NOW)
    assert isinstance(unknown, Rejection) and unknown.reason == AnomalyReason.UNKNOWN_DEVICE
    assert (unknown.device_ref, unknown.device_id, unknown.community_id) == (_OTHER, None, None)
    nameless = validate({"timestamp": NOW.isoformat(), "energy_wh": 1.0}, _catalogue(), NOW)
    assert isinstance(nameless, Rejection) and (nameless.device_ref, nameless.device_id) == (None, None)


def _bounded(low: float | None, high: float | None) -> Catalogue:
    info = DeviceInfo(11, _POD, 3, 21, frozenset({21, 22}), min_energy_wh=low, max_energy_wh=high)
    return Catalogue(communities={3}, devices={_POD: info}, flows={21: FlowQuantity.EXCHANGE, 22: FlowQuantity.LOAD})


@pytest.mark.parametrize(
    ("energy", "accepted"),
    [(-250.0, True), (-250.5, False), (-1000.0, False), (0.0, True), (800.0, True), (800.5, False)],
)
def test_energy_within_the_devices_configured_range_including_its_ends(energy: float, accepted: bool) -> None:
    """Mutant `energy < low` → `energy == low` in `_check_bounds`: a reading below the device's minimum was
    accepted (and one exactly at it refused). The range [−250, 800] Wh is inclusive at both ends."""
    result = validate(_raw(energy_wh=energy), _bounded(-250.0, 800.0), NOW)
    assert isinstance(result, Reading) is accepted, result
    if not accepted:
        assert isinstance(result, Rejection) and result.reason == AnomalyReason.OUT_OF_BOUNDS
        assert f"'energy_wh' {energy} is outside device" in result.message and "[-250.0, 800.0] Wh" in result.message


def test_a_reading_may_name_any_flow_of_its_device_and_no_other() -> None:
    """Mutant `flow_id not in info.flow_ids` → `not flow_id not in …`: a named flow of the device was refused
    and a flow of another device accepted. Flow 22 (the device's load) is not its default 21."""
    named = validate(_raw(flow=22), _bounded(None, None), NOW)
    assert isinstance(named, Reading) and named.flow_id == 22
    as_text = validate(_raw(flow="22"), _bounded(None, None), NOW)
    assert isinstance(as_text, Reading) and as_text.flow_id == 22
    default = validate(_raw(), _bounded(None, None), NOW)
    assert isinstance(default, Reading) and default.flow_id == 21
    foreign = validate(_raw(flow=23), _bounded(None, None), NOW)
    assert isinstance(foreign, Rejection) and foreign.reason == AnomalyReason.UNKNOWN_FLOW
    assert foreign.message == f"Flow 23 is not a flow of device '{_POD}'; use one of [21, 22]."


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan")])
def test_a_non_finite_unix_timestamp_is_told_it_is_not_finite(value: float) -> None:
    """Mutant `isinstance(value, float) and not isfinite` → `not isinstance(…)`: an infinite or NaN timestamp
    (JSON's Infinity, NaN) fell through to the clock's conversion and got the wrong reason and sentence."""
    refused = validate(_raw(timestamp=value), _bounded(None, None), NOW)
    assert isinstance(refused, Rejection) and refused.reason == AnomalyReason.NOT_FINITE
    assert refused.message == f"'timestamp' is {value}; send ISO 8601 or Unix seconds."


def test_an_integer_timestamp_beyond_any_date_is_refused_not_raised() -> None:
    """The same mutant made `math.isfinite` see integers: one beyond any float raised OverflowError out of
    `validate` (a crashed ingestion instead of an anomaly)."""
    refused = validate(_raw(timestamp=10**400), _bounded(None, None), NOW)
    assert isinstance(refused, Rejection) and refused.reason == AnomalyReason.WRONG_TYPE
    assert "is not a representable Unix time" in refused.message


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:00-14:00"])
def test_an_iso_timestamp_outside_the_years_1_to_9999_in_utc_is_refused_with_a_sentence(value: str) -> None:
    """Mutant `except OverflowError` → another exception in `parse_timestamp`: a valid ISO date whose UTC
    instant falls in year 0 or 10000 raised out of `validate`."""
    refused = validate(_raw(timestamp=value), _bounded(None, None), NOW)
    assert isinstance(refused, Rejection) and refused.reason == AnomalyReason.WRONG_TYPE
    assert refused.message == f"'timestamp' {value!r} falls outside the years 1 to 9999 in UTC."


def test_a_refused_payload_that_json_cannot_write_is_kept_as_its_repr() -> None:
    """Mutant `except (TypeError, ValueError)` → without TypeError in `payload_text`: a payload with a key JSON
    cannot write (a tuple, as a CSV reader or a test may build) raised instead of being kept as text."""
    rejection = Rejection(AnomalyReason.MALFORMED, "m", {(1, 2): "x"})
    assert rejection.payload_text() == "{(1, 2): 'x'}"
    circular: list = []
    circular.append(circular)
    assert Rejection(AnomalyReason.MALFORMED, "m", circular).payload_text() == "[[...]]"  # ValueError


@pytest.mark.parametrize(("topic_device", "payload_device"), [(_POD, _OTHER), (_OTHER, _POD)])
def test_a_reading_naming_another_device_than_its_topic_is_refused_whichever_sorts_first(
    topic_device: str, payload_device: str
) -> None:
    """Mutant `str(payload_device) != device` → `>`: a payload naming a device whose POD sorts *below* the
    topic's was accepted (test_validation_edges.py sends only one order). Both devices are registered here,
    in the same community, so only the topic check can refuse."""
    both = _bounded(None, None)
    both.devices[_OTHER] = DeviceInfo(12, _OTHER, 3, 21, frozenset({21}))
    refused = validate({**_raw(), "device": payload_device}, both, NOW, community=3, device=topic_device)
    assert isinstance(refused, Rejection) and refused.reason == AnomalyReason.UNKNOWN_DEVICE
    assert "a device sends only its own readings" in refused.message
    own = validate({**_raw(), "device": topic_device}, both, NOW, community=3, device=topic_device)
    assert isinstance(own, Reading) and own.device_id == {_POD: 11, _OTHER: 12}[topic_device]


@pytest.mark.parametrize(
    ("flow", "energy", "accepted"),
    [
        (22, 0.0, True),
        (22, 3.0, True),
        (22, -0.5, False),
        (22, -1.5, False),
        (24, 0.0, True),
        (24, -5.0, True),
        (24, 0.5, False),
        (24, 5.0, False),
        (21, -5.0, True),
        (21, 5.0, True),
    ],
)
def test_load_is_never_negative_and_production_never_positive(flow: int, energy: float, accepted: bool) -> None:
    """Mutant `value * sign < 0` → `value + sign < 0`: a load of −0.5 Wh was accepted, a production of +5 Wh
    accepted and one of −5 Wh refused; `sign > 0` → `sign != 0` in the sentence told a production that it should be
    positive. The exchange flow 21 takes either sign (report, table 13)."""
    catalogue = _bounded(None, None)
    catalogue.devices[_POD] = DeviceInfo(11, _POD, 3, 21, frozenset({21, 22, 24}))
    catalogue.flows[24] = FlowQuantity.PRODUCTION
    result = validate(_raw(flow=flow, energy_wh=energy), catalogue, NOW)
    assert isinstance(result, Reading) is accepted, result
    if not accepted:
        assert isinstance(result, Rejection) and result.reason == AnomalyReason.SIGN_VIOLATION
        expected = {22: "a load flow is positive (load +)", 24: "a production flow is negative (production −)"}
        assert f"'energy_wh' is {energy} but {expected[flow]} by the report's sign convention" in result.message


@pytest.mark.parametrize(("field", "text"), [("energy_wh", "12,5"), ("energy_wh", "twelve"), ("voltage_v", "230 V")])
def test_a_number_written_as_text_that_is_not_a_number_is_told_so(field: str, text: str) -> None:
    """Mutant `except ValueError` → another exception in `_number`: a CSV cell with a decimal comma (Italian
    spreadsheets write 12,5) or a unit raised out of `validate` instead of being refused with a sentence."""
    refused = validate(_raw(**{field: text}), _bounded(None, None), NOW)
    assert isinstance(refused, Rejection) and refused.reason == AnomalyReason.WRONG_TYPE
    assert refused.message == f"'{field}' is {text!r}, not a number; send a number."
    assert isinstance(validate(_raw(**{field: "12.5"}), _bounded(None, None), NOW), Reading)


def test_the_feedback_to_the_gateway_echoes_the_readings_identity_cut_short() -> None:
    """Mutant `value is None or isinstance(…)` → `not value is None or …` in `_scalar`: the MQTT feedback echoed
    a 300-character device name and a nested object whole, and `null` as the text "None". What it must echo:
    numbers as they are, a non-finite one as text, None as null, anything else as text of at most 100
    characters; the other fields of the payload not at all."""
    raw = {"device": "X" * 300, "flow": None, "timestamp": 1_767_225_600, "energy_wh": float("nan"), "note": "x"}
    feedback = Rejection(AnomalyReason.NOT_FINITE, "m", raw).as_feedback()
    assert feedback == {
        "reason": AnomalyReason.NOT_FINITE.value,
        "message": "m",
        "reading": {"device": "X" * 100, "flow": None, "timestamp": 1_767_225_600, "energy_wh": "nan"},
    }
    nested = Rejection(AnomalyReason.WRONG_TYPE, "m", {"device": {"pod": [1, 2]}, "energy_wh": 2.5, "flow": True})
    assert nested.as_feedback()["reading"] == {"device": "{'pod': [1, 2]}", "energy_wh": 2.5, "flow": True}
    assert Rejection(AnomalyReason.MALFORMED, "m", [1] * 100).as_feedback()["reading"] == repr([1] * 100)[:200]


def test_an_integer_energy_beyond_any_float_is_refused_with_its_digit_count() -> None:
    """Mutant `except OverflowError` → another exception in `_number`: JSON allows an integer of 400 digits;
    `float()` of it raised out of `validate` instead of a refusal that says how long it is."""
    refused = validate(_raw(energy_wh=10**400), _bounded(None, None), NOW)
    assert isinstance(refused, Rejection) and refused.reason == AnomalyReason.NOT_FINITE
    assert refused.message == "'energy_wh' has 401 digits; no meter measures that."
    negative = validate(_raw(power_active_w=-(10**400)), _bounded(None, None), NOW)
    assert (
        isinstance(negative, Rejection)
        and negative.message == "'power_active_w' has 401 digits; no meter measures that."
    )


# ---- found by the full re-run of 2026-11-30, 19:17 (docs/testing.md, "Scores") ----


def test_a_reading_for_a_community_with_a_lower_id_than_its_devices_is_refused() -> None:
    """Mutant `community_id != info.community_id` → `>`: the other half of the test above (the device is in
    community 3; a reading sent for community 2, which exists, was accepted into community 3's data)."""
    catalogue = Catalogue(communities={2, 3}, devices=_catalogue().devices, flows=_catalogue().flows)
    refused = validate(_raw(), catalogue, NOW, community=2)
    assert isinstance(refused, Rejection) and refused.reason == AnomalyReason.UNKNOWN_DEVICE
    assert refused.message == f"Device '{_POD}' is not registered in community 2 (it belongs to community 3)."
    assert isinstance(validate(_raw(), catalogue, NOW, community=3), Reading)


def test_the_payloads_community_wins_over_the_topics_and_an_empty_one_falls_back_to_it() -> None:
    """Mutant `if community_raw in (None, "")` → `if not …`: the payload's community was replaced by the topic's
    (or by none at all, on the HTTP path), so a reading naming a foreign community went unchecked."""
    foreign = validate(_raw(community=4), _catalogue(), NOW)
    assert isinstance(foreign, Rejection) and foreign.reason == AnomalyReason.UNKNOWN_DEVICE
    assert "is not registered in community 4" in foreign.message
    also_foreign = validate(_raw(community=4), _catalogue(), NOW, community=3)
    assert isinstance(also_foreign, Rejection) and "community 4" in also_foreign.message
    empty = validate(_raw(community=""), _catalogue(), NOW, community=4)  # blank: the topic's community counts
    assert isinstance(empty, Rejection) and "is not registered in community 4" in empty.message
    assert isinstance(validate(_raw(community=""), _catalogue(), NOW, community=3), Reading)


@pytest.mark.parametrize(
    ("value", "reason"), [(None, "malformed"), ("", "malformed"), (True, "wrong"), (False, "wrong")]
)
def test_a_missing_timestamp_is_malformed_and_a_boolean_one_of_the_wrong_type(value, reason: str) -> None:
    """Mutant `MALFORMED if value in (None, "") else WRONG_TYPE` → `if not …`: the two reasons were swapped."""
    raw = _raw(timestamp=value)
    if value is None:
        del raw["timestamp"]
    refused = validate(raw, _catalogue(), NOW)
    expected = AnomalyReason.MALFORMED if reason == "malformed" else AnomalyReason.WRONG_TYPE
    assert isinstance(refused, Rejection) and refused.reason == expected
    assert refused.message == "The reading has no valid 'timestamp'; send ISO 8601 with an offset or Unix seconds."


@pytest.mark.parametrize("energy", [None, ""])
def test_a_reading_without_energy_is_refused_with_a_sentence_not_raised(energy) -> None:
    """Mutant `_number(raw, "energy_wh", required=True)` → `required=False`: a reading without energy reached
    `assert energy is not None` and raised out of `validate` (the gateway's batch failed whole)."""
    raw = _raw(energy_wh=energy)
    if energy is None:
        del raw["energy_wh"]
    refused = validate(raw, _catalogue(), NOW)
    assert isinstance(refused, Rejection) and refused.reason == AnomalyReason.MALFORMED
    assert refused.message == "The reading has no 'energy_wh'; every reading needs one."


def test_a_readings_key_is_its_device_flow_and_time() -> None:
    """Mutant: `@property` removed from `Reading.key`: the store deduplicates a batch by `reading.key`
    (oracle/ingest/store.py), which became a bound method, different for two equal readings of one slot."""
    first = validate(_raw(), _catalogue(), NOW)
    again = validate(_raw(energy_wh=13.0), _catalogue(), NOW)
    assert isinstance(first, Reading) and isinstance(again, Reading)
    assert first.key == again.key == (11, 21, (NOW - timedelta(hours=1)).astimezone(first.timestamp.tzinfo))
    assert len({first.key, again.key}) == 1

"""The TOML writer: whatever it writes, the standard library reads back unchanged."""

from __future__ import annotations

import tomllib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lec.besu import toml

keys = st.from_regex(r"[a-z][a-z0-9-]{0,30}", fullmatch=True)
scalars = st.one_of(st.booleans(), st.integers(min_value=-(2**63), max_value=2**63 - 1), st.text())
values = st.one_of(scalars, st.lists(st.text(), max_size=5))


@given(st.dictionaries(keys, values, max_size=8))
def test_round_trip_through_tomllib(document):
    assert tomllib.loads(toml.dumps(document)) == document


def test_comments_go_above_their_key():
    text = toml.dumps({"a": 1, "b": True}, comments={"b": "why b"})
    assert text.splitlines() == ["a=1", "# why b", "b=true"]


def test_unsupported_values_are_refused():
    with pytest.raises(TypeError, match="float"):
        toml.dumps({"x": 1.5})

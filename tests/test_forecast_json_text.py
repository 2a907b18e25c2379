"""The forecast's JSON writer writes what ``json.dumps(..., indent=2, sort_keys=True, ensure_ascii=False)`` writes."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hygiene.forecast.json_text import document_json

SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | st.text()
KEYS = st.text() | st.integers() | st.booleans() | st.none() | st.floats(allow_nan=False)
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=5) | st.tuples(inner, inner) | st.dictionaries(st.text(), inner, max_size=5), max_leaves=40)


def standard(value) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


@given(VALUES)
def test_any_document_is_written_as_json_dumps_writes_it(value):
    assert document_json(value) == standard(value)


@given(st.dictionaries(KEYS, SCALARS, max_size=6))
def test_keys_that_are_not_strings_are_converted_as_json_dumps_converts_them(value):
    try:
        expected = standard(value)
    except TypeError:  # keys of mixed types cannot be sorted: json.dumps refuses them too
        with pytest.raises(TypeError):
            document_json(value)
        return
    assert document_json(value) == expected


def test_text_numbers_and_nesting_as_a_reader_sees_them():
    document = {"b": [1, 2.5, math.inf, -math.inf], "a": {"name": 'Zoë "Z" \u2028 <x>', "empty": {}, "none": []}, "ok": True}
    text = document_json(document)
    assert text == standard(document)
    assert text.startswith('{\n  "a": {\n    "empty": {},\n')
    assert '"Zoë \\"Z\\" \u2028 <x>"' in text


def test_an_object_json_cannot_write_is_refused():
    with pytest.raises(TypeError, match="not JSON serializable"):
        document_json({"when": object()})

import numpy as np
import pyarrow as pa
import pytest

from gis_core import arrow_strings


def test_a_remembered_array_is_answered_and_its_numpy_twin_cannot_change():
    values = np.array(["a", "b", ""], dtype=object)
    arr = pa.array(values, type=pa.string())
    arrow_strings.remember(values, arr)
    try:
        assert arrow_strings.strings(values) is arr
        assert arrow_strings.remembered(values) is arr
        with pytest.raises(ValueError):
            values[0] = "changed"
        # A copy is another array: converted, not answered.
        copy = values.copy()
        assert arrow_strings.remembered(copy) is None
        assert arrow_strings.strings(copy).to_pylist() == ["a", "b", ""]
    finally:
        arrow_strings.forget(values)
    assert arrow_strings.remembered(values) is None
    assert arrow_strings.strings(values).to_pylist() == ["a", "b", ""]


def test_values_that_are_not_text_raise_as_pa_array_does():
    with pytest.raises((pa.ArrowInvalid, pa.ArrowTypeError)):
        arrow_strings.strings(np.array(["a", 1], dtype=object))

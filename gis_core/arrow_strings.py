"""Arrow string arrays remembered for the numpy object arrays of str made from them.

A reader that has a column as an Arrow array hands it on as a numpy object array (what the rules
take), and every vectorised check turns that back into Arrow: 3-4 ms per column of 50,000 rows,
a dozen times per column. `remember` keeps the reader's Arrow array with its numpy array (made
read-only, so the two cannot drift apart) and `strings` answers it instead of converting again."""

from __future__ import annotations

import numpy as np

_MADE: dict[int, tuple[np.ndarray, object]] = {}


def remember(values: np.ndarray, arr) -> None:
    """Records that `arr` (an Arrow string array without nulls) holds the same strings as
    `values`, until forget(values)."""
    values.flags.writeable = False
    _MADE[id(values)] = (values, arr)


def forget(values) -> None:
    hit = _MADE.get(id(values))
    if hit is not None and hit[0] is values:
        del _MADE[id(values)]


def remembered(values):
    """The Arrow array remembered for `values`, else None."""
    hit = _MADE.get(id(values))
    return hit[1] if hit is not None and hit[0] is values else None


def strings(values):
    """pa.array(values, type=pa.string()): the remembered array when there is one (raises what
    pa.array raises for values that are not all text)."""
    import pyarrow as pa

    arr = remembered(values)
    if arr is not None:
        return arr
    return pa.array(np.asarray(values, dtype=object), type=pa.string())

"""The import's vectorised shortcuts give what the plain per-row forms give."""

import numpy as np
import pyarrow as pa
import pytest
import shapely

from components.importing import readers
from components.importing.columns import _FORBIDDEN_RE, _bytes_may_hold_forbidden
from components.importing.core import _hex_wkb


def test_the_byte_scan_finds_every_forbidden_character_the_regex_finds():
    code_points = [*range(0x0, 0x300), *range(0x2000, 0x2100), 0xFEFF, 0x10FFFF]
    for cp in code_points:
        if 0xD800 <= cp < 0xE000:
            continue
        cell = f"ab{chr(cp)}c"
        arr = pa.array(["x", cell, None, ""], type=pa.string())
        assert _bytes_may_hold_forbidden(arr) == bool(_FORBIDDEN_RE.search(cell)), hex(cp)
    assert not _bytes_may_hold_forbidden(pa.array(["", None], type=pa.string()))


def test_hexed_wkb_is_shapely_hex_wkb():
    geoms = np.array(
        [
            shapely.Point(116.5, 35.5),
            shapely.from_wkt("POLYGON ((0 0, 1 0, 1 1, 0 0))"),
            None,
            shapely.from_wkt("POINT Z (1 2 3)"),
        ],
        dtype=object,
    )
    assert _hex_wkb(geoms).to_pylist() == list(shapely.to_wkb(geoms, hex=True, include_srid=False))
    assert _hex_wkb(geoms[1:]).to_pylist() == list(shapely.to_wkb(geoms[1:], hex=True, include_srid=False))
    assert _hex_wkb(geoms[:0]).to_pylist() == []


@pytest.mark.parametrize("arrow_trims_all", [True, False])
def test_cells_are_stripped_as_str_strip_does_whichever_path_runs(monkeypatch, arrow_trims_all):
    monkeypatch.setattr(readers, "_arrow_trims_python_space", lambda: arrow_trims_all)
    cells = [" a ", "\u3000b\u3000", "c\x1c", "\x1fd", None, "", "e\u2028"]
    out = readers._arrow_text(pa.array(cells, type=pa.string()))
    assert list(out) == ["" if c is None else c.strip() for c in cells]
    readers.arrow_strings.forget(out)


def test_this_arrow_trims_what_str_strip_strips():
    # If it did not, the per-row look would run (correct, slower): this says which path imports take.
    assert readers._arrow_trims_python_space()


@pytest.mark.django_db
def test_change_dates_before_census_are_reported_on_every_row_that_has_them(tmp_path):
    # The order is compared once per distinct (census, change) pair: rows sharing a pair share the verdict.
    from components.importing import import_file
    from tests.factories import OrganisationFactory

    owner = OrganisationFactory()
    pairs = [
        ("2025-02-01", "2025-01-01"),  # before: bad
        ("2025-01-01", "2025-02-01"),
        ("2025-02-01", "2025-01-01"),  # the same bad pair again
        ("2025-02-01", ""),
        ("2025-02-01", "2025-02-01"),
        ("2025-02-01", "20250131"),  # another text, the same kind of fault
    ]
    text = "class_code,owner_uscc,census_date,change_date,wkt\n" + "".join(
        f"0118,{owner.uscc},{census},{change},POINT(116.83 35.{55 + i})\n" for i, (census, change) in enumerate(pairs)
    )
    path = tmp_path / "d.csv"
    path.write_text(text, encoding="utf-8")
    r = import_file(path, srid=4490)
    assert sorted((e.row, e.field, e.reason) for e in r.errors) == [
        (1, "change_date", "is before the census date"),
        (3, "change_date", "is before the census date"),
        (6, "change_date", "is before the census date"),
    ]


@pytest.mark.parametrize("multiline", [True, False])
def test_the_ascii_look_spares_the_regex_only_where_it_finds_nothing(multiline):
    import pyarrow.compute as pc

    from components.validation import _ascii_without_controls, _suspect_re2

    for cp in range(0x0, 0x800):
        arr = pa.array(["x", f"ab{chr(cp)}c", None, ""], type=pa.string())
        found = pc.any(pc.match_substring_regex(arr, _suspect_re2(multiline))).as_py()
        if cp < 0x80:
            assert _ascii_without_controls(arr, multiline) == (not found), hex(cp)
        else:
            assert not _ascii_without_controls(arr, multiline), hex(cp)

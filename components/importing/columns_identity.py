"""The identity columns: class code, ID and the admin/street/community code hierarchy, checked by
the shared rules (components.ids, components.validation) in their vectorised forms."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from django.conf import settings

from components.ids import ID_FORMAT, id_errors_array
from components.models import ComponentClass
from components.validation import (
    ADMIN_CODE_FORMAT,
    COMMUNITY_CODE_FORMAT,
    STREET_CODE_FORMAT,
    class_errors_array,
    code_hierarchy_errors_array,
)

from .columns import combine, factorize
from .readers import FileProblem
from .results import RowError


@dataclass
class Identity:
    code: np.ndarray  # str, '' where a new ID is to be allocated
    class_text: np.ndarray  # the class code of each row (from the ID when the class_code cell is empty)
    class_inv: np.ndarray  # index of each row's class among the distinct ones
    class_of: np.ndarray  # ComponentClass or None, per row
    class_id: np.ndarray  # int64, 0 where the class is unknown or inactive
    admin: np.ndarray  # str
    serial_max: dict  # {(admin code, class pk): highest serial given}


def identity_columns(cols: dict, n: int, errors: list) -> Identity:
    if "class_code" not in cols and "code" not in cols:
        raise FileProblem(
            "the file has no class_code column (map one with mapping={'class_code': ...})", field="class_code"
        )
    empty = np.full(n, "", dtype=object)
    code = cols.get("code", empty)
    class_text, class_lut, class_inv, class_id = _classes(cols.get("class_code", empty), code, errors)
    class_of = class_lut[class_inv]
    admin = _admin_codes(cols.get("admin_code", empty), code)
    _check_hierarchy(admin, cols.get("street_code", empty), cols.get("community_code", empty), errors)
    serial_max = _check_codes(code, class_lut, class_inv, admin, errors)
    return Identity(code, class_text, class_inv, class_of, class_id, admin, serial_max)


def _check_hierarchy(admin: np.ndarray, street: np.ndarray, community: np.ndarray, errors: list) -> None:
    """The code hierarchy rule, run on the distinct (admin, street, community) triples (a file has few)."""
    if not len(admin):
        return
    first, inverse = combine(*(factorize(c)[1] for c in (admin, street, community)))
    bad = code_hierarchy_errors_array(admin[first], street[first], community[first])
    for name, reason in (
        ("admin_code", ADMIN_CODE_FORMAT),
        ("street_code", STREET_CODE_FORMAT),
        ("community_code", COMMUNITY_CODE_FORMAT),
    ):
        if bad[name].any():
            for i in np.flatnonzero(bad[name][inverse]).tolist():
                errors.append(RowError(i + 1, name, reason))


def _classes(class_text: np.ndarray, code: np.ndarray, errors: list):
    """(class code per row, the distinct classes (ComponentClass or None), each row's index among
    them, class pk per row or 0)."""
    classes = {c.code: c for c in ComponentClass.objects.select_related("scheme")}
    n = len(code)
    class_text = class_text.copy()
    need_class = class_text == ""
    if need_class.any():  # an ID carries its class: 6 admin digits + 4 or 5 class digits
        for i in np.flatnonzero(need_class & (code != "")):
            c = code[i]
            class_text[i] = c[6:10] if len(c) == 16 else c[6:11]
    class_values, class_inv = factorize(class_text)
    class_lut = np.empty(len(class_values), dtype=object)
    class_lut[:] = [classes.get(v) for v in class_values]
    reasons = class_errors_array(class_lut)
    ok = np.equal(reasons, None)  # noqa: E711 - elementwise
    pks = np.array([0 if cls is None else cls.pk for cls in class_lut], dtype=np.int64)
    class_id = np.where(ok, pks, 0)[class_inv] if n else np.zeros(0, dtype=np.int64)
    if not ok.all():
        for i in np.flatnonzero(~ok[class_inv]).tolist():
            text, cls = class_text[i], class_lut[class_inv[i]]
            if cls is None and text:  # a class code the registry does not know: the file's words
                hint = " (leading zero lost? store class codes as text)" if text.isdigit() and len(text) == 3 else ""
                errors.append(RowError(i + 1, "class_code", f"unknown class {text!r}{hint}"))
            else:
                errors.append(RowError(i + 1, "class_code", reasons[class_inv[i]]))
    return class_text, class_lut, class_inv, class_id


def _admin_codes(admin: np.ndarray, code: np.ndarray) -> np.ndarray:
    """The admin code of each row: the cell, else the ID's first 6 digits, else the district's."""
    admin = admin.copy()
    no_admin = admin == ""
    if no_admin.any():
        default_admin = settings.GRIDCITY_ADMIN_CODE
        admin[no_admin] = [c[:6] if c else default_admin for c in code[no_admin].tolist()]
    return admin


def _check_codes(
    code: np.ndarray, class_lut: np.ndarray, class_inv: np.ndarray, admin: np.ndarray, errors: list
) -> dict:
    """The given IDs: each well-formed for its class and admin code (components.ids) and none twice in
    the file. Returns the highest serial per (admin code, class pk), for the ID counters.
    `class_lut` holds the distinct classes (ComponentClass or None), `class_inv` each row's index."""
    import pyarrow as pa
    import pyarrow.compute as pc

    given = np.flatnonzero(code != "")
    serial_max: dict[tuple[str, int], int] = {}
    if not len(given):
        return serial_max
    codes = code[given]
    inv = class_inv[given]
    known = np.array([c is not None for c in class_lut], dtype=bool)[inv]
    class_codes = np.array(["" if c is None else c.code for c in class_lut], dtype=object)[inv]
    schemes = np.array(["" if c is None else c.scheme.code for c in class_lut], dtype=object)[inv]
    pks = np.array([0 if c is None else c.pk for c in class_lut], dtype=np.int64)[inv]
    # The admin code is compared only where the class is known, as the row-by-row rule did.
    admins = np.where(known, admin[given], None)
    reasons = id_errors_array(codes, class_codes, schemes, admins)
    values, code_inv = factorize(codes)
    duplicate = np.zeros(len(codes), dtype=bool)
    first_row = given + 1
    if len(values) != len(codes):
        _, first = np.unique(code_inv, return_index=True)
        first_row = given[first][code_inv] + 1
        duplicate = first_row != given + 1
    for k in np.flatnonzero(np.not_equal(reasons, None) | duplicate).tolist():  # noqa: E711
        i = int(given[k])
        if reasons[k] == ID_FORMAT:  # the file's value, shown when it is not even an ID
            errors.append(RowError(i + 1, "code", f"{codes[k]!r} {ID_FORMAT}"))
        elif duplicate[k]:
            errors.append(RowError(i + 1, "code", f"duplicate ID {codes[k]}: also on row {int(first_row[k])}"))
        elif reasons[k] is not None and known[k]:
            errors.append(RowError(i + 1, "code", reasons[k]))
    good = np.equal(reasons, None) & ~duplicate & known  # noqa: E711
    if good.any():
        rows = np.flatnonzero(good)
        serials = pc.cast(pc.utf8_slice_codeunits(pa.array(codes[rows], type=pa.string()), -6, 2**31 - 1), pa.int64())
        serials = np.asarray(serials.to_numpy(zero_copy_only=False), dtype=np.int64)
        admin_values, admin_inv = factorize(admins[rows])
        first_of_key, key_inv = combine(admin_inv, inv[rows])
        best = np.zeros(len(first_of_key), dtype=np.int64)
        np.maximum.at(best, key_inv, serials)
        for j, s in zip(first_of_key.tolist(), best.tolist()):
            serial_max[(admin_values[admin_inv[j]], int(pks[rows][j]))] = s
    return serial_max

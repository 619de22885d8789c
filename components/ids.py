"""Standard component IDs: 6 admin digits + class code (4 or 5 digits) + 6-digit serial."""

import re

import numpy as np
from django.db import connection

from gis_core import arrow_strings

from .models import ComponentClass

MAX_SERIAL = 999_999
_ID_RE = re.compile(r"^[0-9]{16,17}$")


class IdError(ValueError):
    pass


def format_id(admin_code: str, class_code: str, serial: int) -> str:
    if not 1 <= serial <= MAX_SERIAL:
        raise IdError(f"serial {serial} is outside 1..{MAX_SERIAL}")
    return f"{admin_code}{class_code}{serial:06d}"


# Why an ID is refused: one text for the services (id_error) and the importer (id_errors_array).
ID_FORMAT = "must be 16 (GB/T 30428) or 17 (GB/T 47678) digits"
ID_ZERO_SERIAL = "serial 000000 is not allowed"
ID_CLASS_LENGTH = "class {cls} ({scheme}) takes {length}-digit IDs"
ID_CLASS_DIGITS = "digits 7-{last} must be the class code {cls}"
ID_ADMIN_PREFIX = "first 6 digits must be the admin code {admin}"


def id_error(code: str, component_class: ComponentClass | None = None, admin_code: str | None = None) -> str | None:
    """Why `code` is not a well-formed ID (for that class and admin area, when given), or None."""
    if not isinstance(code, str) or not _ID_RE.match(code):
        return ID_FORMAT
    if code.endswith("000000"):
        return ID_ZERO_SERIAL
    if component_class is not None:
        expected = 6 + len(component_class.code) + 6
        if len(code) != expected:
            return ID_CLASS_LENGTH.format(cls=component_class.code, scheme=component_class.scheme.code, length=expected)
        if code[6 : 6 + len(component_class.code)] != component_class.code:
            return ID_CLASS_DIGITS.format(last=6 + len(component_class.code), cls=component_class.code)
    if admin_code is not None and code[:6] != admin_code:
        return ID_ADMIN_PREFIX.format(admin=admin_code)
    return None


def id_errors_array(
    codes: np.ndarray, class_codes: np.ndarray, schemes: np.ndarray, admin_codes: np.ndarray
) -> np.ndarray:
    """id_error() for many rows at once: an object array of reasons (None where the ID is fine).
    Every argument is an array with one entry per row: the ID, its class code ('' when the class is
    unknown: only the format and the admin code are checked then), the class's scheme code, and the
    admin code (None: not checked). Each check runs on whole Arrow arrays; only bad rows are worded."""
    import pyarrow as pa
    import pyarrow.compute as pc

    codes = np.asarray(codes, dtype=object)
    n = len(codes)
    reasons = np.full(n, None, dtype=object)
    if n == 0:
        return reasons
    try:
        ids = arrow_strings.strings(codes)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # not all text: what is not text is no ID
        is_text = np.fromiter((isinstance(c, str) for c in codes.tolist()), dtype=bool, count=n)
        ids = pa.array(np.where(is_text, codes, None), type=pa.string())

    def rows(condition) -> np.ndarray:
        return np.asarray(pc.fill_null(condition, False).to_numpy(zero_copy_only=False), dtype=bool)

    # ASCII digits only: str.isdigit() also takes '¹' and full-width digits.
    well_formed = rows(pc.match_substring_regex(ids, _ID_RE.pattern))
    reasons[~well_formed] = ID_FORMAT
    zero = well_formed & rows(pc.ends_with(ids, "000000"))
    reasons[zero] = ID_ZERO_SERIAL
    todo = well_formed & ~zero
    cls = arrow_strings.strings(class_codes)
    klen = np.asarray(pc.utf8_length(cls).to_numpy(zero_copy_only=False), dtype=np.int64)
    lengths = np.asarray(pc.fill_null(pc.utf8_length(ids), 0).to_numpy(zero_copy_only=False), dtype=np.int64)
    has_cls = todo & (klen > 0)
    wrong_len = has_cls & (lengths != 12 + klen)
    for i in np.flatnonzero(wrong_len).tolist():
        reasons[i] = ID_CLASS_LENGTH.format(cls=class_codes[i], scheme=schemes[i], length=12 + int(klen[i]))
    has_cls &= ~wrong_len
    todo &= ~wrong_len
    # digits 7-10 or 7-11: the class code (its length matches, as checked above)
    digits = pc.if_else(pa.array(klen == 4), pc.utf8_slice_codeunits(ids, 6, 10), pc.utf8_slice_codeunits(ids, 6, 11))
    wrong_cls = has_cls & ~rows(pc.equal(digits, cls))
    for i in np.flatnonzero(wrong_cls).tolist():
        reasons[i] = ID_CLASS_DIGITS.format(last=6 + int(klen[i]), cls=class_codes[i])
    todo &= ~wrong_cls
    admin = arrow_strings.strings(admin_codes)
    same_admin = pc.fill_null(pc.equal(pc.utf8_slice_codeunits(ids, 0, 6), admin), True)  # None: not checked
    wrong_admin = todo & ~rows(same_admin)
    for i in np.flatnonzero(wrong_admin).tolist():
        reasons[i] = ID_ADMIN_PREFIX.format(admin=admin_codes[i])
    return reasons


def split_id(code: str, class_code_length: int) -> tuple[str, str, int]:
    return code[:6], code[6 : 6 + class_code_length], int(code[6 + class_code_length :])


def allocate_serials(admin_code: str, component_class: ComponentClass, count: int = 1) -> range:
    """Reserves `count` consecutive serials. One UPSERT statement, so concurrent callers never collide:
    the row lock it takes serialises them, and the counter only grows, so retired IDs stay retired."""
    if count < 1:
        raise IdError("count must be positive")
    with connection.cursor() as cur:
        cur.execute(
            """
            INSERT INTO components_idsequence (admin_code, component_class_id, last_serial)
            VALUES (%s, %s, %s)
            ON CONFLICT (admin_code, component_class_id)
            DO UPDATE SET last_serial = components_idsequence.last_serial + EXCLUDED.last_serial
            RETURNING last_serial
            """,
            [admin_code, component_class.pk, count],
        )
        (last,) = cur.fetchone()
    if last > MAX_SERIAL:
        raise IdError(f"no serials left for admin {admin_code} class {component_class.code}")
    return range(last - count + 1, last + 1)


def allocate_ids(admin_code: str, component_class: ComponentClass, count: int = 1) -> list[str]:
    return [
        format_id(admin_code, component_class.code, s) for s in allocate_serials(admin_code, component_class, count)
    ]


def reserve_up_to(pairs: dict[tuple[str, int], int]) -> None:
    """Makes sure the counters are at least the given serials, for IDs that arrive already made
    (imports): {(admin_code, class_pk): highest serial seen}."""
    if not pairs:
        return
    admin, cls, serial = zip(*[(a, c, s) for (a, c), s in pairs.items()])
    with connection.cursor() as cur:
        cur.execute(
            """
            INSERT INTO components_idsequence (admin_code, component_class_id, last_serial)
            SELECT * FROM unnest(%s::text[], %s::bigint[], %s::int[])
            ON CONFLICT (admin_code, component_class_id)
            DO UPDATE SET last_serial = GREATEST(components_idsequence.last_serial, EXCLUDED.last_serial)
            """,
            [list(admin), list(cls), list(serial)],
        )

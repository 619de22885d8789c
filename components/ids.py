"""Standard component IDs: 6 admin digits + class code (4 or 5 digits) + 6-digit serial."""
import re

from django.db import connection

from .models import ComponentClass

MAX_SERIAL = 999_999
_ID_RE = re.compile(r"^[0-9]{16,17}$")


class IdError(ValueError):
    pass


def format_id(admin_code: str, class_code: str, serial: int) -> str:
    if not 1 <= serial <= MAX_SERIAL:
        raise IdError(f"serial {serial} is outside 1..{MAX_SERIAL}")
    return f"{admin_code}{class_code}{serial:06d}"


def id_error(code: str, component_class: ComponentClass | None = None, admin_code: str | None = None) -> str | None:
    """Why `code` is not a well-formed ID (for that class and admin area, when given), or None."""
    if not isinstance(code, str) or not _ID_RE.match(code):
        return "must be 16 (GB/T 30428) or 17 (GB/T 47678) digits"
    if code.endswith("000000"):
        return "serial 000000 is not allowed"
    if component_class is not None:
        expected = 6 + len(component_class.code) + 6
        if len(code) != expected:
            return f"class {component_class.code} ({component_class.scheme.code}) takes {expected}-digit IDs"
        if code[6 : 6 + len(component_class.code)] != component_class.code:
            return f"digits 7-{6 + len(component_class.code)} must be the class code {component_class.code}"
    if admin_code is not None and code[:6] != admin_code:
        return f"first 6 digits must be the admin code {admin_code}"
    return None


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
    return [format_id(admin_code, component_class.code, s) for s in allocate_serials(admin_code, component_class, count)]


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

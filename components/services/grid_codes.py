"""Grid, community and street codes of components, from where they stand (set-based)."""

from contextlib import nullcontext

import pghistory
from django.db import connection, transaction

from ..models import Component
from ..signals import components_changed
from .components import history_user_id

BASE_LEVEL = 4


def components_in_area(area: str) -> str:
    """The condition (on components_component c) of the components assign_grid_codes(area=...) looks
    at, for the SQL geometry expression `area`: a caller may ask first whether there are any."""
    return f"NOT c.retired AND c.geom && {area} AND ST_Intersects({area}, ST_PointOnSurface(c.geom))"


def assign_grid_codes(
    *,
    bbox: tuple[float, float, float, float] | None = None,
    user=None,
    area: bytes | None = None,
    at_most: int | None = None,
) -> int | None:
    """Gives every component inside `bbox` (all when None) the code of the base grid it stands in,
    and the street and community codes that the base code starts with; a component in no base grid
    gets empty codes. Only rows whose codes change are written (and so recorded in history).
    Returns how many components changed.

    `area` (EWKB in EPSG:4490, inside `bbox`, which then only names the components changed): only the components whose point on surface lies in it,
    e.g. the symmetric difference of a boundary's old and new shape, where alone a code can change.
    `at_most`: for a caller inside a request (under its statement timeout, one statement, no
    savepoint): when more components than that are in the area, nothing is written and None is
    returned (the caller leaves them to a job)."""
    params: list = []
    if area is not None:
        # The area's own box first (a moved vertex: a few metres), not the whole grid's.
        where = [components_in_area("a.g")]
        params.append(bytes(area))
    else:
        where = ["NOT c.retired"]
        if bbox is not None:
            where.append("c.geom && ST_MakeEnvelope(%s, %s, %s, %s, 4490)")
            params += list(bbox)
    limit = ""
    if at_most is not None:
        # One candidate more than allowed is enough to know: a big edit costs no more than that.
        limit = "LIMIT %s"
        params.append(int(at_most) + 1)
    lookup = f"""
        SELECT c.id, coalesce(g.code, '') AS grid_code
        FROM candidates c
        LEFT JOIN LATERAL (
            SELECT g.code FROM layers_grid g
            WHERE g.level_id = {BASE_LEVEL} AND g.geom && c.geom
              AND ST_Intersects(g.geom, ST_PointOnSurface(c.geom))
            ORDER BY g.code LIMIT 1
        ) g ON TRUE
        WHERE c.grid_code IS DISTINCT FROM coalesce(g.code, '')"""
    if at_most is None:
        small, ok = "", "TRUE"
    else:
        # The count and the writes in one statement: no round trip more than the edit needs.
        small = ", small AS (SELECT count(*) <= %s AS ok FROM candidates)"
        params.append(int(at_most))
        lookup += " AND (SELECT ok FROM small)"
        ok = "(SELECT ok FROM small)"
    area_from = ", (SELECT ST_GeomFromEWKB(%s) AS g) a" if area is not None else ""
    sql = f"""
        WITH candidates AS (
            SELECT c.id, c.geom, c.grid_code FROM components_component c{area_from} WHERE {" AND ".join(where)} {limit}
        ){small},
        located AS ({lookup}),
        changed AS (
            UPDATE components_component c
               SET grid_code = l.grid_code,
                   community_code = CASE WHEN l.grid_code = '' THEN c.community_code ELSE left(l.grid_code, 12) END,
                   street_code = CASE WHEN l.grid_code = '' THEN c.street_code ELSE left(l.grid_code, 9) END,
                   updated_at = now()
              FROM located l
             WHERE c.id = l.id
            RETURNING 1
        )
        SELECT {ok}, (SELECT count(*) FROM changed)
    """
    bulk = at_most is None
    with (
        transaction.atomic() if bulk else nullcontext(),
        pghistory.context(user=history_user_id(user), action="grid_assignment"),
        connection.cursor() as cur,
    ):
        if bulk:
            cur.execute("SET LOCAL statement_timeout = 0")  # a bulk job, not a request: a city takes a while
        cur.execute(sql, params)
        ok, changed = cur.fetchone()
    if not ok:
        return None
    if changed:
        transaction.on_commit(lambda: components_changed.send(sender=Component, codes=[], bbox=bbox))
    return changed

"""Grid, community and street codes of components, from where they stand (set-based)."""

import pghistory
from django.db import connection, transaction

from ..models import Component
from ..signals import components_changed
from .components import history_user_id

BASE_LEVEL = 4


@transaction.atomic
def assign_grid_codes(*, bbox: tuple[float, float, float, float] | None = None, user=None) -> int:
    """Gives every component inside `bbox` (all when None) the code of the base grid it stands in,
    and the street and community codes that the base code starts with; a component in no base grid
    gets empty codes. Only rows whose codes change are written (and so recorded in history).
    Returns how many components changed."""
    area = "TRUE"
    params: list = []
    if bbox is not None:
        area = "c.geom && ST_MakeEnvelope(%s, %s, %s, %s, 4490)"
        params = list(bbox)
    sql = f"""
        WITH located AS (
            SELECT c.id,
                   coalesce(g.code, '') AS grid_code
            FROM components_component c
            LEFT JOIN LATERAL (
                SELECT g.code FROM layers_grid g
                WHERE g.level_id = {BASE_LEVEL} AND g.geom && c.geom
                  AND ST_Intersects(g.geom, ST_PointOnSurface(c.geom))
                ORDER BY g.code LIMIT 1
            ) g ON TRUE
            WHERE {area} AND NOT c.retired
        )
        UPDATE components_component c
           SET grid_code = l.grid_code,
               community_code = CASE WHEN l.grid_code = '' THEN c.community_code ELSE left(l.grid_code, 12) END,
               street_code = CASE WHEN l.grid_code = '' THEN c.street_code ELSE left(l.grid_code, 9) END,
               updated_at = now()
          FROM located l
         WHERE c.id = l.id AND c.grid_code IS DISTINCT FROM l.grid_code
    """
    with pghistory.context(user=history_user_id(user), action="grid_assignment"), connection.cursor() as cur:
        cur.execute("SET LOCAL statement_timeout = 0")  # a bulk job, not a request: a city takes a while
        cur.execute(sql, params)
        changed = cur.rowcount
    if changed:
        transaction.on_commit(lambda: components_changed.send(sender=Component, codes=[], bbox=bbox))
    return changed

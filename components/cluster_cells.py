"""SQL that keeps the cluster cells (ComponentCell, table tiles_componentcell) in step with
components_component; the cell grid is tiles.cells'."""

from gis_core.mercator import HALF_WORLD
from tiles.cells import CELL_LEVELS, CLUSTER_MAX_ZOOM

FINEST_LEVEL = CLUSTER_MAX_ZOOM + CELL_LEVELS

# {delta} is a SELECT of (g geometry in 3857, k component_class_id, s +1/-1) rows.
_APPLY = f"""
WITH d AS ({{delta}}),
fine AS (
    SELECT floor((ST_X(p) + {HALF_WORLD}) / (2 * {HALF_WORLD} / 2 ^ {FINEST_LEVEL}))::int AS cx,
           floor(({HALF_WORLD} - ST_Y(p)) / (2 * {HALF_WORLD} / 2 ^ {FINEST_LEVEL}))::int AS cy,
           cl.major_code AS major, sum(s) AS n, sum(s * ST_X(p)) AS sx, sum(s * ST_Y(p)) AS sy
    FROM (SELECT ST_PointOnSurface(g) AS p, k, s FROM d WHERE g IS NOT NULL) pts
    JOIN components_componentclass cl ON cl.id = pts.k
    GROUP BY 1, 2, 3
)
INSERT INTO tiles_componentcell AS c (z, cx, cy, major, n, sx, sy)
SELECT z, cx >> ({CLUSTER_MAX_ZOOM} - z), cy >> ({CLUSTER_MAX_ZOOM} - z), major, sum(n), sum(sx), sum(sy)
FROM fine CROSS JOIN generate_series(0, {CLUSTER_MAX_ZOOM}) AS z
GROUP BY 1, 2, 3, 4
ON CONFLICT (z, cx, cy, major) DO UPDATE
    SET n = c.n + EXCLUDED.n, sx = c.sx + EXCLUDED.sx, sy = c.sy + EXCLUDED.sy
"""

_INSERTED = "SELECT geom_3857 AS g, component_class_id AS k, 1 AS s FROM new_rows WHERE NOT retired"
_DELETED = "SELECT geom_3857 AS g, component_class_id AS k, -1 AS s FROM old_rows WHERE NOT retired"
# Only rows whose place, class or liveness changed move a count (a state change moves none).
_UPDATED = """
SELECT g, k, s FROM (
    SELECT o.geom_3857 AS g, o.component_class_id AS k, -1 AS s, o.retired AS r, o.id
    FROM old_rows o JOIN new_rows n USING (id)
    WHERE (o.geom_3857, o.component_class_id, o.retired) IS DISTINCT FROM (n.geom_3857, n.component_class_id, n.retired)
    UNION ALL
    SELECT n.geom_3857, n.component_class_id, 1, n.retired, n.id
    FROM old_rows o JOIN new_rows n USING (id)
    WHERE (o.geom_3857, o.component_class_id, o.retired) IS DISTINCT FROM (n.geom_3857, n.component_class_id, n.retired)
) moved WHERE NOT r
"""

TRIGGERS = f"""
CREATE OR REPLACE FUNCTION tiles_component_cells() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {_APPLY.format(delta=_INSERTED)};
    ELSIF TG_OP = 'DELETE' THEN
        {_APPLY.format(delta=_DELETED)};
    ELSE
        {_APPLY.format(delta=_UPDATED)};
    END IF;
    DELETE FROM tiles_componentcell WHERE n <= 0;
    RETURN NULL;
END
$fn$;
CREATE TRIGGER tiles_cells_insert AFTER INSERT ON components_component
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION tiles_component_cells();
CREATE TRIGGER tiles_cells_update AFTER UPDATE ON components_component
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION tiles_component_cells();
CREATE TRIGGER tiles_cells_delete AFTER DELETE ON components_component
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION tiles_component_cells();
-- Bulk imports run with session_replication_role = replica to skip re-checking foreign keys;
-- the counts must follow them all the same.
ALTER TABLE components_component ENABLE ALWAYS TRIGGER tiles_cells_insert;
ALTER TABLE components_component ENABLE ALWAYS TRIGGER tiles_cells_update;
ALTER TABLE components_component ENABLE ALWAYS TRIGGER tiles_cells_delete;
"""

DROP_TRIGGERS = """
DROP TRIGGER IF EXISTS tiles_cells_insert ON components_component;
DROP TRIGGER IF EXISTS tiles_cells_update ON components_component;
DROP TRIGGER IF EXISTS tiles_cells_delete ON components_component;
DROP FUNCTION IF EXISTS tiles_component_cells();
"""


def _fill_sql(table: str) -> str:
    """_APPLY for counting `table` into an emptied tiles_componentcell: every (z, cx, cy, major) comes
    once out of the GROUP BY, so a plain INSERT does (no conflict to resolve: 15% of the statement),
    and the point of each geometry is computed once (OFFSET 0 keeps the planner from inlining it
    into each of the four uses: 17%)."""
    delta = f"SELECT geom_3857 AS g, component_class_id AS k, 1 AS s FROM {table} WHERE NOT retired"
    sql = _APPLY.format(delta=delta).replace(
        "FROM d WHERE g IS NOT NULL) pts", "FROM d WHERE g IS NOT NULL OFFSET 0) pts"
    )
    head, conflict, _ = sql.partition("ON CONFLICT (z, cx, cy, major)")
    assert conflict and "OFFSET 0" in head, "_APPLY changed: update _fill_sql"
    return head


# Counts every live component from scratch (after a restore, or to check the triggers).
REBUILD = "TRUNCATE tiles_componentcell;\n" + _fill_sql("components_component")


def rebuild_sql(table: str = "components_component") -> str:
    """Counts every live component of `table` from scratch, leaving the old counts readable until
    commit (DELETE, not TRUNCATE): the initial load (components.services.initial_load) counts its
    fresh table before swapping it in."""
    return "DELETE FROM tiles_componentcell;\n" + _fill_sql(table)

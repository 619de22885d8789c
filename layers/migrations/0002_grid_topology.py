"""Grid topology in the database, so no write path (WFS-T, REST, admin, import, SQL) can break it.

- area_m2 is computed in the grid's CGCS2000 3-degree Gauss-Krueger zone (EPSG:4534-4554);
- each write takes a transaction lock on its parent, so concurrent edits under one parent queue up;
- at commit a deferred constraint trigger refuses a current grid that shares interior area with a
  current sibling (ST_Relate interiors, not bounding boxes), that leaves its parent by more than the
  tolerance (gridcity.grid_tolerance_m, default 0.5 m), or whose children it no longer contains."""
from django.db import migrations

FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION gridcity_gk_srid(g geometry) RETURNS integer
LANGUAGE sql IMMUTABLE STRICT AS $$
  SELECT 4534 + (round(ST_X(ST_PointOnSurface(g)) / 3)::int * 3 - 75) / 3
$$;

-- How far (metres) `inner` reaches outside `outer`. The difference is taken in degrees, where shared
-- borders coincide exactly; projecting first would bend long edges apart and invent slivers.
CREATE OR REPLACE FUNCTION gridcity_metres_outside(inner_geom geometry, outer_geom geometry) RETURNS double precision
LANGUAGE sql STABLE STRICT AS $$
  SELECT coalesce(max(ST_Distance((dp).geom::geography, outer_geom::geography)), 0)
  FROM ST_DumpPoints(ST_Difference(inner_geom, outer_geom)) dp
$$;

CREATE OR REPLACE FUNCTION gridcity_grid_before_write() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.area_m2 := ST_Area(ST_Transform(NEW.geom, gridcity_gk_srid(NEW.geom)));
  PERFORM pg_advisory_xact_lock(hashtext('gridcity.grid.parent'), hashtext(NEW.parent_code));
  IF TG_OP = 'UPDATE' AND OLD.parent_code IS DISTINCT FROM NEW.parent_code THEN
    PERFORM pg_advisory_xact_lock(hashtext('gridcity.grid.parent'), hashtext(OLD.parent_code));
  END IF;
  -- A parent's boundary edit is checked against its children: keep them from moving meanwhile.
  PERFORM pg_advisory_xact_lock(hashtext('gridcity.grid.parent'), hashtext(NEW.code));
  RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION gridcity_grid_check_topology() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  g layers_grid%ROWTYPE;
  other record;
  srid integer;
  tol double precision := coalesce(nullif(current_setting('gridcity.grid_tolerance_m', true), '')::float8, 0.5);
  outside double precision;
BEGIN
  SELECT * INTO g FROM layers_grid WHERE id = NEW.id;
  IF NOT FOUND OR g.valid_to IS NOT NULL THEN
    RETURN NULL;
  END IF;
  srid := gridcity_gk_srid(g.geom);

  FOR other IN
    SELECT s.code, ST_Intersection(s.geom, g.geom) AS shared
    FROM layers_grid s
    WHERE s.valid_to IS NULL AND s.id <> g.id AND s.level_id = g.level_id
      AND s.parent_code = g.parent_code
      AND s.geom && g.geom AND ST_Relate(s.geom, g.geom, '2********')
    LIMIT 1
  LOOP
    RAISE EXCEPTION 'grid % overlaps grid % (% m2 shared, near %)', g.code, other.code,
      round(ST_Area(ST_Transform(ST_CollectionExtract(other.shared, 3), srid))::numeric, 1),
      ST_AsText(ST_PointOnSurface(ST_CollectionExtract(other.shared, 3)), 7)
      USING ERRCODE = 'GR001', HINT = 'siblings may share borders but not area';
  END LOOP;

  IF g.parent_code <> '' THEN
    SELECT gridcity_metres_outside(g.geom, p.geom) INTO outside
      FROM layers_grid p WHERE p.code = g.parent_code AND p.valid_to IS NULL;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'grid % has no current parent %', g.code, g.parent_code USING ERRCODE = 'GR002';
    END IF;
    IF outside > tol THEN
      RAISE EXCEPTION 'grid % extends % m outside its parent % (tolerance % m)', g.code, round(outside::numeric, 2),
        g.parent_code, tol USING ERRCODE = 'GR002';
    END IF;
  END IF;

  FOR other IN
    SELECT c.code FROM layers_grid c
    WHERE c.parent_code = g.code AND c.valid_to IS NULL AND gridcity_metres_outside(c.geom, g.geom) > tol
    LIMIT 1
  LOOP
    RAISE EXCEPTION 'grid % no longer contains its child grid % (tolerance % m)', g.code, other.code, tol
      USING ERRCODE = 'GR003';
  END LOOP;
  RETURN NULL;
END $$;

CREATE TRIGGER grid_before_write BEFORE INSERT OR UPDATE ON layers_grid
  FOR EACH ROW EXECUTE FUNCTION gridcity_grid_before_write();
CREATE CONSTRAINT TRIGGER grid_topology AFTER INSERT OR UPDATE ON layers_grid
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION gridcity_grid_check_topology();
"""

REVERSE = """
DROP TRIGGER IF EXISTS grid_topology ON layers_grid;
DROP TRIGGER IF EXISTS grid_before_write ON layers_grid;
DROP FUNCTION IF EXISTS gridcity_grid_check_topology();
DROP FUNCTION IF EXISTS gridcity_grid_before_write();
DROP FUNCTION IF EXISTS gridcity_gk_srid(geometry);
DROP FUNCTION IF EXISTS gridcity_metres_outside(geometry, geometry);
"""

class Migration(migrations.Migration):
    dependencies = [("layers", "0001_initial")]
    operations = [
        migrations.RunSQL(FUNCTIONS, REVERSE),
    ]

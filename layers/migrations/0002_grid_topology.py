"""Grid rules in the database, so no write path (WFS-T, REST, admin, import, SQL) can break them.

- area_m2 is computed in the grid's CGCS2000 3-degree Gauss-Krueger zone (EPSG:4534-4554);
- every insert, change and delete is kept in layers_gridversion (time-versioned history);
- each write takes a transaction lock on its parent, so concurrent edits under one parent queue up;
- at commit a deferred constraint trigger refuses a grid that shares interior area with a sibling
  (ST_Relate interiors, not bounding boxes), that reaches outside its parent by more than the
  tolerance (setting gridcity.grid_tolerance_m, default 0.5 m), or whose children it no longer holds."""

from django.db import migrations

FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION gridcity_gk_srid(g geometry) RETURNS integer
LANGUAGE sql IMMUTABLE STRICT AS $$
  SELECT 4534 + (round(ST_X(ST_PointOnSurface(g)) / 3)::int * 3 - 75) / 3
$$;

-- How far (metres) `inner_geom` reaches outside `outer_geom`. The difference is taken in degrees,
-- where shared borders coincide exactly; projecting first would bend long edges apart into slivers.
CREATE OR REPLACE FUNCTION gridcity_metres_outside(inner_geom geometry, outer_geom geometry) RETURNS double precision
LANGUAGE sql STABLE STRICT AS $$
  SELECT coalesce(max(ST_Distance((dp).geom::geography, outer_geom::geography)), 0)
  FROM ST_DumpPoints(ST_Difference(inner_geom, outer_geom)) dp
$$;

CREATE OR REPLACE FUNCTION gridcity_grid_before_write() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND NEW IS NOT DISTINCT FROM OLD THEN
    RETURN NEW;
  END IF;
  NEW.area_m2 := ST_Area(ST_Transform(NEW.geom, gridcity_gk_srid(NEW.geom)));
  NEW.valid_from := clock_timestamp();
  NEW.version := CASE WHEN TG_OP = 'UPDATE' THEN OLD.version + 1 ELSE 1 END;
  PERFORM pg_advisory_xact_lock(hashtext('gridcity.grid.parent'), hashtext(NEW.parent_code));
  IF TG_OP = 'UPDATE' AND OLD.parent_code IS DISTINCT FROM NEW.parent_code THEN
    PERFORM pg_advisory_xact_lock(hashtext('gridcity.grid.parent'), hashtext(OLD.parent_code));
  END IF;
  -- A parent's boundary edit is checked against its children: keep them from moving meanwhile.
  PERFORM pg_advisory_xact_lock(hashtext('gridcity.grid.parent'), hashtext(NEW.code));
  RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION gridcity_grid_log_version() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    UPDATE layers_gridversion SET valid_to = clock_timestamp()
     WHERE grid_id = OLD.id AND valid_to IS NULL
       AND (TG_OP = 'DELETE' OR OLD.version <> NEW.version);
  END IF;
  IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND OLD.version <> NEW.version) THEN
    INSERT INTO layers_gridversion (grid_id, version, code, name, level_id, parent_code, geom, area_m2,
                                    organisation_id, population, households, valid_from, valid_to)
    VALUES (NEW.id, NEW.version, NEW.code, NEW.name, NEW.level_id, NEW.parent_code, NEW.geom, NEW.area_m2,
            NEW.organisation_id, NEW.population, NEW.households, NEW.valid_from, NULL);
  END IF;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION gridcity_grid_check_topology() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  g layers_grid%ROWTYPE;
  other record;
  tol double precision := coalesce(nullif(current_setting('gridcity.grid_tolerance_m', true), '')::float8, 0.5);
  outside double precision;
BEGIN
  SELECT * INTO g FROM layers_grid WHERE id = NEW.id;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;

  FOR other IN
    SELECT s.code, ST_CollectionExtract(ST_Intersection(s.geom, g.geom), 3) AS shared
    FROM layers_grid s
    WHERE s.id <> g.id AND s.level_id = g.level_id AND s.parent_code = g.parent_code
      AND s.geom && g.geom AND ST_Relate(s.geom, g.geom, '2********')
    LIMIT 1
  LOOP
    RAISE EXCEPTION 'grid % overlaps grid % (% m2 shared, near %)', g.code, other.code,
      round(ST_Area(ST_Transform(other.shared, gridcity_gk_srid(g.geom)))::numeric, 1),
      ST_AsText(ST_PointOnSurface(other.shared), 7)
      USING ERRCODE = 'GR001', HINT = 'siblings may share borders but not area';
  END LOOP;

  IF g.parent_code <> '' THEN
    SELECT gridcity_metres_outside(g.geom, p.geom) INTO outside FROM layers_grid p WHERE p.code = g.parent_code;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'grid % has no parent grid %', g.code, g.parent_code USING ERRCODE = 'GR002';
    END IF;
    IF outside > tol THEN
      RAISE EXCEPTION 'grid % reaches % m outside its parent % (tolerance % m)', g.code, round(outside::numeric, 2),
        g.parent_code, tol USING ERRCODE = 'GR002';
    END IF;
  END IF;

  FOR other IN
    SELECT c.code FROM layers_grid c
    WHERE c.parent_code = g.code AND gridcity_metres_outside(c.geom, g.geom) > tol
    LIMIT 1
  LOOP
    RAISE EXCEPTION 'grid % no longer contains its child grid % (tolerance % m)', g.code, other.code, tol
      USING ERRCODE = 'GR003';
  END LOOP;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION gridcity_grid_before_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('gridcity.grid.parent'), hashtext(OLD.code));
  IF EXISTS (SELECT 1 FROM layers_grid c WHERE c.parent_code = OLD.code) THEN
    RAISE EXCEPTION 'grid % still has child grids: delete or move them first', OLD.code USING ERRCODE = 'GR004';
  END IF;
  RETURN OLD;
END $$;

CREATE TRIGGER grid_before_write BEFORE INSERT OR UPDATE ON layers_grid
  FOR EACH ROW EXECUTE FUNCTION gridcity_grid_before_write();
CREATE TRIGGER grid_before_delete BEFORE DELETE ON layers_grid
  FOR EACH ROW EXECUTE FUNCTION gridcity_grid_before_delete();
CREATE TRIGGER grid_log_version AFTER INSERT OR UPDATE OR DELETE ON layers_grid
  FOR EACH ROW EXECUTE FUNCTION gridcity_grid_log_version();
CREATE CONSTRAINT TRIGGER grid_topology AFTER INSERT OR UPDATE ON layers_grid
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION gridcity_grid_check_topology();
"""

REVERSE = """
DROP TRIGGER IF EXISTS grid_topology ON layers_grid;
DROP TRIGGER IF EXISTS grid_log_version ON layers_grid;
DROP TRIGGER IF EXISTS grid_before_delete ON layers_grid;
DROP TRIGGER IF EXISTS grid_before_write ON layers_grid;
DROP FUNCTION IF EXISTS gridcity_grid_check_topology();
DROP FUNCTION IF EXISTS gridcity_grid_log_version();
DROP FUNCTION IF EXISTS gridcity_grid_before_delete();
DROP FUNCTION IF EXISTS gridcity_grid_before_write();
DROP FUNCTION IF EXISTS gridcity_metres_outside(geometry, geometry);
DROP FUNCTION IF EXISTS gridcity_gk_srid(geometry);
"""


class Migration(migrations.Migration):
    dependencies = [("layers", "0001_initial")]
    operations = [migrations.RunSQL(FUNCTIONS, REVERSE)]

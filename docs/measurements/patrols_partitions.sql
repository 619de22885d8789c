-- Day vs month partitions for patrol fixes (docs/patrols.md). Run in a scratch database:
--   psql "$DATABASE_URL" -f docs/measurements/patrols_partitions.sql
-- Two copies of the fix table, a year of partitions each (365 daily, 12 monthly), the same 30 days of
-- fixes (100 workers, one every 10 s for 8 h a day: ~8.6 M rows would be a month; here 2 M rows over
-- 30 days, 1 fix / 35 s), then: planning time of an unpruned query, a pruned one, a 10,000-fix insert.
\timing on
SET client_min_messages = warning;
DROP TABLE IF EXISTS pm_day, pm_month CASCADE;
CREATE TABLE pm_day (worker_id int, fix_time timestamptz, geom geometry(Point, 4490),
    UNIQUE (worker_id, fix_time)) PARTITION BY RANGE (fix_time);
CREATE TABLE pm_month (LIKE pm_day INCLUDING ALL) PARTITION BY RANGE (fix_time);
DO $$ BEGIN
  FOR i IN 0..364 LOOP
    EXECUTE format('CREATE TABLE pm_day_%s PARTITION OF pm_day FOR VALUES FROM (%L) TO (%L)', i,
      timestamptz '2026-01-01 00:00+08' + i * interval '1 day', timestamptz '2026-01-01 00:00+08' + (i + 1) * interval '1 day');
  END LOOP;
  FOR i IN 0..11 LOOP
    EXECUTE format('CREATE TABLE pm_month_%s PARTITION OF pm_month FOR VALUES FROM (%L) TO (%L)', i,
      timestamptz '2026-01-01 00:00+08' + i * interval '1 month', timestamptz '2026-01-01 00:00+08' + (i + 1) * interval '1 month');
  END LOOP;
END $$;
CREATE INDEX ON pm_day USING brin (fix_time);
CREATE INDEX ON pm_day USING gist (geom);
CREATE INDEX ON pm_month USING brin (fix_time);
CREATE INDEX ON pm_month USING gist (geom);
\echo load 2M rows, daily
INSERT INTO pm_day SELECT w, timestamptz '2026-03-01 08:00+08' + d * interval '1 day' + s * interval '35 s',
    ST_SetSRID(ST_MakePoint(116.8 + random() / 50, 35.5 + random() / 50), 4490)
  FROM generate_series(1, 100) w, generate_series(0, 29) d, generate_series(0, 666) s;
\echo load 2M rows, monthly
INSERT INTO pm_month SELECT * FROM pm_day;
ANALYZE pm_day; ANALYZE pm_month;
\echo unpruned (one worker, all time): daily
EXPLAIN (ANALYZE, SUMMARY ON, COSTS OFF, TIMING OFF) SELECT count(*) FROM pm_day WHERE worker_id = 7;
\echo unpruned (one worker, all time): monthly
EXPLAIN (ANALYZE, SUMMARY ON, COSTS OFF, TIMING OFF) SELECT count(*) FROM pm_month WHERE worker_id = 7;
\echo one worker-day (pruned): daily
EXPLAIN (ANALYZE, SUMMARY ON, COSTS OFF, TIMING OFF) SELECT count(*) FROM pm_day WHERE worker_id = 7
  AND fix_time >= '2026-03-10 00:00+08' AND fix_time < '2026-03-11 00:00+08';
\echo one worker-day (pruned): monthly
EXPLAIN (ANALYZE, SUMMARY ON, COSTS OFF, TIMING OFF) SELECT count(*) FROM pm_month WHERE worker_id = 7
  AND fix_time >= '2026-03-10 00:00+08' AND fix_time < '2026-03-11 00:00+08';
\echo 10,000-fix batch ON CONFLICT: daily
INSERT INTO pm_day SELECT 101, timestamptz '2026-03-31 08:00+08' + s * interval '1 s', ST_SetSRID(ST_MakePoint(116.8, 35.5), 4490)
  FROM generate_series(1, 10000) s ON CONFLICT DO NOTHING;
\echo 10,000-fix batch ON CONFLICT: monthly
INSERT INTO pm_month SELECT 101, timestamptz '2026-03-31 08:00+08' + s * interval '1 s', ST_SetSRID(ST_MakePoint(116.8, 35.5), 4490)
  FROM generate_series(1, 10000) s ON CONFLICT DO NOTHING;
DROP TABLE pm_day, pm_month CASCADE;

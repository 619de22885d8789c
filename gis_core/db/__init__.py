"""The database backend: PostGIS, with a per-request connection health check that costs no round trip."""

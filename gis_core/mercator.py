"""Web Mercator (EPSG:3857) constants, defined once for tiles, clusters, WMS and invalidation."""

EARTH_RADIUS = 6378137.0
HALF_WORLD = 20037508.342789244  # pi * EARTH_RADIUS: half the world's width in metres
WORLD_BOUNDS = (-HALF_WORLD, -HALF_WORLD, HALF_WORLD, HALF_WORLD)
MAX_LAT = 85.0511287798066  # latitude at which the square world ends

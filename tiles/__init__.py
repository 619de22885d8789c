"""Vector and raster tiles and their cache: next issues."""

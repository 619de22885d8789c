"""WMS 1.3.0 (GetCapabilities, GetMap, GetFeatureInfo) at /wms and /ows?SERVICE=WMS, for the
catalogue's tile layers (a layer with `tiles` is a WMS layer), images by mapnik (tiles.raster)."""

"""The cluster cell grid shared by every layer that keeps stored cluster counts (catalogue.StoredCells).

Below CLUSTER_MAX_ZOOM + 1, cluster zoom z groups points into square cells that are the Web Mercator
tiles of zoom z + CELL_LEVELS (32 x 32 cells per tile); the finest cells belong to CLUSTER_MAX_ZOOM and
every coarser zoom is the finest index shifted right."""

CLUSTER_MAX_ZOOM = 15
CELL_LEVELS = 5

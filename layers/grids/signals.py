from django.dispatch import Signal

# Sent after commit when grids were created, changed or deleted, by any write path (REST, WFS-T,
# admin, loaders). kwargs: bbox ((minx, miny, maxx, maxy) in EPSG:4490) covering old and new shapes;
# parts (optional): the levels of the grids changed (Tiles.changes_part), none meaning any level.
grids_changed = Signal()

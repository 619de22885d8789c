from django.dispatch import Signal

# Sent after commit with bbox=(minlon, minlat, maxlon, maxlat) in EPSG:4490 (None: everywhere).
basemap_changed = Signal()

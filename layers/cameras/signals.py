from django.dispatch import Signal

# Sent after commit with bbox=(minlon, minlat, maxlon, maxlat) in EPSG:4490: drops the tiles it touched.
cameras_changed = Signal()

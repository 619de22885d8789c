"""Map layers and their catalogue (grids, patrols, incidents, cameras, OGC services): next issues."""

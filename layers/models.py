from .grids.models import Grid, GridLevel, GridStaff  # noqa: F401

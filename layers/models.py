from .grids.models import Grid, GridLevel, GridStaff, GridVersion  # noqa: F401

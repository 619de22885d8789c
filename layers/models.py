from .grids.models import Grid, GridLevel, GridReassignment, GridStaff, GridVersion  # noqa: F401

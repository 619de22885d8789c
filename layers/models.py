from .grids.models import Grid, GridGap, GridLevel, GridReassignment, GridStaff, GridVersion  # noqa: F401

"""The layers app also holds the grid domain (layers/grids): its declarations are registered here."""

from .grids import map_layers  # noqa: F401

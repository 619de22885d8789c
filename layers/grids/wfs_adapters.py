"""Adapters from the layer catalogue's write hooks to the grid services (the one write path)."""

from . import services

# What update and delete read from the grid they get: its code (the services look the row up again,
# locked, in the statement that writes it).
EDIT_FIELDS = ("code",)


def inserter(level: int):
    def insert(user, values: dict):
        return services.create_grid(level=level, check=False, **values)

    return insert


def update(user, grid, values: dict):
    return services.update_grid(grid, check=False, **values)


def delete(user, grid):
    services.delete_grid(grid)


def finish(user):
    """After the last operation of a transaction: run the deferred topology checks, named."""
    services.check_topology_now()

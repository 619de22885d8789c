"""Adapters from the layer catalogue's write hooks to the grid services (the one write path)."""

from django.db import connection

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
    """After the last operation of a transaction: the deferred topology checks, named. When the
    transaction's own block commits right after this hook (a WFS-T request), its COMMIT runs them: a
    refusal there fails the commit with the same message, and the request saves a round trip. Inside
    an outer transaction (a test, a caller's block) nothing commits yet, so they run here."""
    if len(connection.atomic_blocks) == 1 and connection.commit_on_exit:
        return
    services.check_topology_now()

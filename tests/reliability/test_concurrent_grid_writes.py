"""Two writers racing to make overlapping sibling grids through the grid service, round after round:
exactly one commits, the other is refused with a message, and the committed grids never overlap.
50 rounds in make test; 1,000 under make soak (GRIDCITY_SOAK_ROUNDS sets any number)."""

import threading

import pytest
from django.contrib.gis.geos import Polygon
from django.db import connection

from gis_core.errors import ServiceError
from layers.grids.services import create_grid, delete_grid, update_grid
from layers.models import Grid

from .soak import rounds

X0, Y0 = 116.80, 35.52
A, B = "370812001", "370812002"


def box(x0, x1):
    return Polygon.from_bbox((X0 + x0, Y0, X0 + x1, Y0 + 0.1))


class Racers:
    """Two threads, each with its own database connection for the whole test, released together to run
    one write each per round."""

    def __init__(self):
        self.start, self.done = threading.Barrier(3, timeout=120), threading.Barrier(3, timeout=120)
        self.writes, self.outcomes, self.stop = {}, {}, False
        self.threads = [threading.Thread(target=self._run, args=(name,)) for name in ("a", "b")]
        for t in self.threads:
            t.start()

    def _run(self, name):
        try:
            while True:
                self.start.wait()
                if self.stop:
                    return
                try:
                    self.writes[name]()
                    self.outcomes[name] = "committed"
                except ServiceError:
                    self.outcomes[name] = "refused"
                except Exception as exc:  # noqa: BLE001 - anything else is the failure this test looks for
                    self.outcomes[name] = f"crashed: {exc.__class__.__name__}: {exc}"
                self.done.wait()
        finally:
            connection.close()

    def race(self, a, b) -> dict[str, str]:
        self.writes, self.outcomes = {"a": a, "b": b}, {}
        self.start.wait()
        self.done.wait()
        return dict(self.outcomes)

    def close(self):
        self.stop = True
        self.start.wait()
        for t in self.threads:
            t.join()


def overlapping_pairs() -> int:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM layers_grid a JOIN layers_grid b ON a.code < b.code "
            "AND a.level_id = b.level_id AND ST_Overlaps(a.geom, b.geom)"
        )
        return cur.fetchone()[0]


def create(code, geom):
    return lambda: create_grid(code=code, name=code, level=2, parent_code="370812", geom=geom)


@pytest.mark.django_db(transaction=True)
def test_two_overlapping_grid_writes_exactly_one_commits_every_round():
    create_grid(code="370812", name="兖州区", level=1, geom=box(0, 0.1))
    racers = Racers()
    try:
        race_rounds(racers, rounds(quick=50, soak=1000))
    finally:
        racers.close()


def race_rounds(racers, count):
    for n in range(count):
        if n % 2 == 0:
            # Two new grids claiming the same strip.
            outcomes = racers.race(a=create(A, box(0, 0.06)), b=create(B, box(0.04, 0.1)))
            expected = {A} if outcomes["a"] == "committed" else {B}
        else:
            # A grid growing into the place where a new one is being made.
            create_grid(code=A, name=A, level=2, parent_code="370812", geom=box(0, 0.05))
            outcomes = racers.race(a=lambda: update_grid(A, geom=box(0, 0.07)), b=create(B, box(0.06, 0.1)))
            expected = {A} if outcomes["a"] == "committed" else {A, B}
        assert sorted(outcomes.values()) == ["committed", "refused"], (n, outcomes)
        assert set(Grid.objects.filter(level_id=2).values_list("code", flat=True)) == expected, (n, outcomes)
        assert overlapping_pairs() == 0, n
        for code in (B, A):
            if Grid.objects.filter(code=code).exists():
                delete_grid(code)

"""Celery tasks of the tile service."""

from celery import shared_task


@shared_task(bind=True, name="tiles.seed")
def seed_tiles(self, layer_ids: list[str], minzoom: int, maxzoom: int, bbox=None) -> dict:
    """Seeds the cache; progress is the task's PROGRESS state with {"done", "total"}."""
    from .seeding import seed

    def progress(done, total):
        self.update_state(state="PROGRESS", meta={"done": done, "total": total})

    return seed(layer_ids, range(minzoom, maxzoom + 1), bbox, progress)

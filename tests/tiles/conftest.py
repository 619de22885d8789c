import pytest


@pytest.fixture(autouse=True)
def _empty_tile_cache():
    """Each test's database starts from the same rows: its tiles must not come from an earlier test."""
    from tiles import cache

    client = cache.client()
    for pattern in ("tile:*", "tilegen:*"):
        keys = list(client.scan_iter(pattern, count=1000))
        if keys:
            client.delete(*keys)
    yield

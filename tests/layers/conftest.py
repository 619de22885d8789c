import pytest


@pytest.fixture(autouse=True)
def _fresh_wms_extents():
    """Capabilities keep each layer's extent for a few minutes per process: a test must not see the
    extent an earlier test's rows gave."""
    from layers.ogc.wms import capabilities

    capabilities._extents.clear()
    yield

"""GDAL's WFS driver (ogrinfo / ogr2ogr, gdal-bin) reads every feature type from a live server,
with paging forced to small pages, in WFS 2.0.0 and 1.1.0."""

import json
import os
import shutil
import subprocess

import pytest

from components import roles
from tests.factories import ComponentFactory, make_user

from .test_wfs_support import PASSWORD, make_grids

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def gdal_installed():
    """Fails (never skips): a CI without GDAL must show a broken install, not a green run that tested nothing."""
    for tool in ("ogrinfo", "ogr2ogr"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is missing: run scripts/install-deps.sh (Debian package gdal-bin)")


@pytest.fixture
def data(transactional_db):
    make_user("gdal_reader", roles.GIS_EDITOR, password=PASSWORD)
    grids = make_grids()
    components = [ComponentFactory(admin_code="370812") for _ in range(3)]
    return grids, components


def gdal(*args, version="2.0.0"):
    env = dict(
        os.environ,
        GDAL_HTTP_AUTH="BASIC",
        GDAL_HTTP_USERPWD=f"gdal_reader:{PASSWORD}",
        OGR_WFS_PAGING_ALLOWED="ON",
        OGR_WFS_PAGE_SIZE="2",
        OGR_WFS_LOAD_MULTIPLE_LAYER_DEFN="NO",
        GDAL_HTTP_TIMEOUT="30",
        CPL_DEBUG="OFF",
        OGR_WFS_VERSION=version,
        no_proxy="*",
    )
    proc = subprocess.run(list(args), capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return proc.stdout


@pytest.mark.parametrize("version", ["2.0.0", "1.1.0"])
def test_gdal_reads_every_feature_type_with_paging(live_server, data, tmp_path, version):
    url = f"WFS:{live_server.url}/wfs?VERSION={version}"
    listing = gdal("ogrinfo", "-ro", "-q", url, version=version)
    for name in ("components", "district_grids", "street_grids", "community_grids", "base_grids", "micro_grids"):
        assert name in listing, listing
    expected = {
        "components": 3,
        "district_grids": 1,
        "street_grids": 1,
        "community_grids": 1,
        "base_grids": 3,
        "micro_grids": 0,
    }
    for name, n in expected.items():
        out = tmp_path / f"{name}.geojson"
        gdal("ogr2ogr", "-f", "GeoJSON", str(out), url, f"gridcity:{name}", version=version)
        features = json.loads(out.read_text())["features"]
        assert len(features) == n, (name, len(features))
        if name == "base_grids":
            codes = sorted(f["properties"]["code"] for f in features)
            assert codes == ["37081200100101", "37081200100102", "37081200100103"]  # no page read twice
            xs = [c[0] for f in features for c in f["geometry"]["coordinates"][0][0]]
            assert all(116 < x < 117 for x in xs)  # x/y order (lon first)


def test_gdal_version():
    out = subprocess.run(["ogrinfo", "--version"], capture_output=True, text=True).stdout
    assert out.startswith("GDAL 3.")

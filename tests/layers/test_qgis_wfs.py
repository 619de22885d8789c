"""QGIS itself (Debian python3-qgis 3.22, headless, /usr/bin/python3) edits base_grids over WFS-T
against a live server, and the database must hold exactly those changes."""

import json
import os
import subprocess
from pathlib import Path

import pytest

from components import roles
from layers.models import Grid
from tests.factories import make_user

from .test_wfs_support import PASSWORD, TARGET_PK, X0, Y0, make_grids

SCRIPT = Path(__file__).parent / "clients" / "qgis_wfs.py"
QGIS_PYTHON = "/usr/bin/python3"


def require_qgis():
    """Fails (never skips): a CI without QGIS must show a broken install, not a green run that tested nothing."""
    if not os.path.exists(QGIS_PYTHON):
        pytest.fail(f"{QGIS_PYTHON} is missing: run scripts/install-deps.sh (Debian packages python3, python3-qgis)")
    proc = subprocess.run(
        [QGIS_PYTHON, "-c", "import qgis.core"],
        capture_output=True,
        text=True,
        env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"},
    )
    if proc.returncode != 0:
        pytest.fail(
            "python3-qgis is not importable from /usr/bin/python3: run scripts/install-deps.sh "
            f"(Debian packages python3-qgis, qgis-providers)\n{proc.stderr[-1000:]}"
        )


pytestmark = pytest.mark.django_db(transaction=True)


def run_qgis(live_server, mode):
    cfg = {"url": f"{live_server.url}/wfs", "username": "qgis_editor", "password": PASSWORD, "mode": mode}
    return run_client(SCRIPT, cfg)


def run_client(script: Path, cfg: dict) -> dict:
    """Runs a tests/layers/clients script under Debian's python3 (QGIS) and returns its last JSON line."""
    require_qgis()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHON"))}
    env["QT_QPA_PLATFORM"] = "offscreen"
    env["PATH"] = "/usr/bin:/bin"
    proc = subprocess.run(
        [QGIS_PYTHON, str(script), json.dumps(cfg)], capture_output=True, text=True, timeout=120, env=env
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    assert lines, f"QGIS printed nothing useful\nstdout:{proc.stdout[-2000:]}\nstderr:{proc.stderr[-3000:]}"
    return json.loads(lines[-1])


@pytest.fixture
def setup_grids(transactional_db):
    make_user("qgis_editor", roles.GIS_EDITOR, password=PASSWORD)
    return make_grids()


def test_qgis_edits_base_grids_and_the_database_holds_exactly_that(live_server, setup_grids):
    before = {g.code: g for g in Grid.objects.all()}
    out = run_qgis(live_server, "edit")
    assert out["valid"], out
    assert out["can_add"] and out["can_change_geometry"], out
    assert "geometry" not in out["fields"] and {"code", "name", "parent_code"} <= set(out["fields"])
    assert out["codes"] == ["37081200100101", "37081200100102", "37081200100103"]
    assert out["committed"], out["errors"]
    after = {g.code: g for g in Grid.objects.all()}
    # the vertex moved, nothing else in that grid
    moved = after["37081200100101"]
    assert moved.pk == TARGET_PK and moved.version == 2
    ring = [tuple(round(v, 9) for v in xy) for xy in moved.geom[0][0].coords]
    old_ring = [tuple(round(v, 9) for v in xy) for xy in before["37081200100101"].geom[0][0].coords]
    sw = (round(X0 + 0.02, 9), round(Y0 + 0.02, 9))
    assert sw in old_ring and sw not in ring and (round(X0 + 0.021, 9), round(Y0 + 0.021, 9)) in ring
    assert len(set(ring) - set(old_ring)) == 1 and len(ring) == 5
    assert moved.name == before["37081200100101"].name
    # added
    new = after["37081200100104"]
    assert new.name == "四号网格" and new.parent_code == "370812001001" and new.level_id == 4
    assert new.geom.extent == pytest.approx((X0 + 0.03, Y0 + 0.03, X0 + 0.04, Y0 + 0.04), abs=1e-9)
    # renamed in Chinese, geometry untouched
    renamed = after["37081200100102"]
    assert renamed.name == "光明路网格（改）" and renamed.geom.equals_exact(before["37081200100102"].geom, 1e-12)
    # deleted
    assert "37081200100103" not in after
    # and nothing else
    assert set(after) == set(before) - {"37081200100103"} | {"37081200100104"}
    for code in ("370812", "370812001", "370812001001"):
        assert after[code].version == before[code].version


def test_qgis_reports_an_overlap_refusal_and_nothing_changes(live_server, setup_grids):
    before = sorted(Grid.objects.values_list("id", "code", "name", "version"))
    out = run_qgis(live_server, "overlap")
    assert out["valid"], out
    assert out["committed"] is False
    errors = " ".join(out["errors"])
    assert "overlaps grid 37081200100101" in errors, errors
    assert "m2 shared, near POINT(" in errors
    assert sorted(Grid.objects.values_list("id", "code", "name", "version")) == before


RELOAD_SCRIPT = Path(__file__).parent / "clients" / "qgis_reload.py"


def test_qgis_sees_its_own_edit_after_reload_reopen_and_in_a_second_layer(live_server, setup_grids):
    """QGIS keeps an HTTP cache of GET answers; WFS answers say they may change, so no read after an
    edit brings the old geometry back."""
    new_box = (0.03, 0.02, 0.04, 0.025)  # shrunk inside its old square: no sibling overlapped
    cfg = {
        "url": f"{live_server.url}/wfs",
        "username": "qgis_editor",
        "password": PASSWORD,
        "new_box": new_box,
        "new_name": "重绘网格",
    }
    out = run_client(RELOAD_SCRIPT, cfg)
    assert out["valid"] and out["committed"], out
    want = {
        "name": "重绘网格",
        "extent": [
            round(X0 + new_box[0], 6),
            round(Y0 + new_box[1], 6),
            round(X0 + new_box[2], 6),
            round(Y0 + new_box[3], 6),
        ],
    }
    grid = Grid.objects.get(code="37081200100102")
    assert grid.name == want["name"]
    assert [round(v, 6) for v in grid.geom.extent] == want["extent"]
    assert out["reloaded"] == want, out
    assert out["reopened"] == want, out
    assert out["bystander_editing"] == want, out

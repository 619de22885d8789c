"""The optional online basemap: 天地图 by URL template is drawn under our layers in the viewer's
style; GCJ-02/BD-09 sources (高德, 腾讯, 百度) are refused at start-up with the reason."""

import os
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from gis_core.online_basemap import check, check_template, templates
from tiles import style as styles

TIANDITU = (
    "https://t0.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=vec&STYLE=default"
    "&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=KEY"
)
SHIFTED = [
    "https://webrd01.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
    "https://wprd01.amap.com/appmaptile?x={x}&y={y}&z={z}&style=7",
    "https://rt0.map.gtimg.com/tile?z={z}&x={x}&y={y}&styleid=1000",
    "https://maponline0.bdimg.com/tile/?qt=vtile&x={x}&y={y}&z={z}",
    "https://online1.map.bdimg.com/onlinelabel/?qt=tile&x={x}&y={y}&z={z}",
]


def test_tianditu_is_accepted():
    assert check_template(TIANDITU) is None
    assert templates(f"{TIANDITU} {TIANDITU.replace('vec_w', 'cva_w')}") == (
        TIANDITU,
        TIANDITU.replace("vec_w", "cva_w"),
    )
    assert templates("") == ()


@pytest.mark.parametrize("url", SHIFTED)
def test_gcj02_and_bd09_sources_are_refused_with_the_reason(url):
    with pytest.raises(ImproperlyConfigured) as refused:
        templates(f"{TIANDITU} {url}")
    text = str(refused.value)
    assert "GRIDCITY_BASEMAP_URL refused" in text and "hundreds of metres" in text and "CGCS2000" in text
    assert ("GCJ-02" in text) or ("BD-09" in text)


def test_templates_must_name_a_web_mercator_tile():
    assert "names no tile" in check_template("https://t0.tianditu.gov.cn/vec_w/wmts?tk=KEY")
    assert "longitude/latitude" in check_template(TIANDITU.replace("TILEMATRIXSET=w", "TILEMATRIXSET=c"))
    assert "not an http" in check_template("file:///etc/{z}/{x}/{y}.png")


def test_start_up_fails_with_the_message():
    env = {**os.environ, "GRIDCITY_BASEMAP_URL": SHIFTED[0], "GRIDCITY_ENV": "test"}
    done = subprocess.run([sys.executable, "manage.py", "check"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "GRIDCITY_BASEMAP_URL refused" in done.stderr and "autonavi.com" in done.stderr


def test_the_system_check_and_the_style():
    with override_settings(GRIDCITY_BASEMAP_URL=SHIFTED[2]):
        (error,) = check()
        assert error.id == "gridcity.E010" and "gtimg.com" in error.msg
        assert styles.online_basemap() == ({}, [])
    assert check() == [] and styles.online_basemap() == ({}, [])
    with override_settings(GRIDCITY_BASEMAP_URL=TIANDITU, GRIDCITY_BASEMAP_ATTRIBUTION="© 天地图"):
        sources, layers = styles.online_basemap()
        style = styles.style([], "/tiles/")
    assert (
        sources["online-basemap-0"]["tiles"] == [TIANDITU] and sources["online-basemap-0"]["attribution"] == "© 天地图"
    )
    assert [sl["id"] for sl in style["layers"]] == ["background", "online-basemap-0"]

"""The optional online basemap (GRIDCITY_BASEMAP_URL): raster tile URL templates the viewer draws under
our own layers, e.g. 天地图's Web Mercator vector tiles with the site's key. Checked at start-up.

Our data are CGCS2000 (EPSG:4490, within a metre of WGS 84). The Chinese commercial maps publish their
tiles in GCJ-02 (高德/AutoNavi, 腾讯/QQ) or BD-09 (百度), deliberately shifted by a few hundred metres;
drawn under our data they would put every component beside its street. Such templates are refused
(shifting every tile back is not done here). Nothing is fetched by the server: the browser loads them."""

from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

# host suffix -> the provider and its coordinate system
SHIFTED_HOSTS = {
    "autonavi.com": "高德 AutoNavi (GCJ-02)",
    "amap.com": "高德 Amap (GCJ-02)",
    "is.autonavi.com": "高德 AutoNavi (GCJ-02)",
    "gtimg.com": "腾讯 Tencent (GCJ-02)",
    "map.qq.com": "腾讯 Tencent (GCJ-02)",
    "qq.com": "腾讯 Tencent (GCJ-02)",
    "baidu.com": "百度 Baidu (BD-09)",
    "bdimg.com": "百度 Baidu (BD-09)",
    "bdstatic.com": "百度 Baidu (BD-09)",
    "google.cn": "Google China (GCJ-02)",
}
TILE_TOKENS = (("{z}", "{x}", "{y}"), ("{quadkey}",), ("{bbox-epsg-3857}",))


def check_template(url: str) -> str | None:
    """Why the template cannot be used, or None."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{url[:80]!r} is not an http(s) URL template"
    host = parts.hostname.lower()
    for suffix, provider in SHIFTED_HOSTS.items():
        if host == suffix or host.endswith("." + suffix):
            return (
                f"{host} serves {provider} tiles, shifted by hundreds of metres from CGCS2000/WGS 84 on purpose: "
                "our CGCS2000 data would be drawn hundreds of metres off their streets. Use 天地图 "
                "(tianditu.gov.cn, CGCS2000) Web Mercator tiles, or only the offline basemap (manage.py load_basemap)"
            )
    if not any(all(t in url for t in tokens) for tokens in TILE_TOKENS):
        return f"{url[:80]!r} names no tile: write {{z}}, {{x}} and {{y}} (or {{quadkey}}) where they go"
    if "tianditu" in host and "tilematrixset=c" in url.lower():
        return (
            "天地图 TILEMATRIXSET=c tiles are in longitude/latitude; the viewer draws Web Mercator: use the _w layers"
        )
    return None


def templates(raw: str | None) -> tuple[str, ...]:
    """The templates of a GRIDCITY_BASEMAP_URL value (several separated by spaces, drawn bottom first,
    e.g. 天地图 vec_w then cva_w labels); ImproperlyConfigured naming the first one refused."""
    urls = tuple((raw or "").split())
    for url in urls:
        reason = check_template(url)
        if reason:
            raise ImproperlyConfigured(f"GRIDCITY_BASEMAP_URL refused: {reason}")
    return urls


def check(app_configs=None, **kwargs):
    """Django system check (manage.py check, runserver, migrate): the same refusal for settings
    changed after start-up (a local settings module, tests)."""
    from django.conf import settings
    from django.core.checks import Error

    raw = getattr(settings, "GRIDCITY_BASEMAP_URL", "")
    try:
        templates(raw)
    except ImproperlyConfigured as exc:
        return [Error(str(exc), id="gridcity.E010", hint="unset GRIDCITY_BASEMAP_URL or use a CGCS2000/WGS 84 source")]
    return []

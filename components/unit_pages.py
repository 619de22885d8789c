"""A maintenance unit's own pages (本单位部件): its components counted by class and state, filtered,
listed, on a map of its assets only, and downloaded as CSV or XLSX with names, not codes.

The organisation is the account's own (its profile); a role that sees every component (dispatcher,
editor, administrator) may look at any organisation's page with ?org=<USCC>. Reads go through the
selectors, so a unit account sees only what visibility allows, whatever the address says."""

from __future__ import annotations

import csv
import io
import re
from urllib.parse import quote, urlencode

from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from . import roles, selectors, visibility
from .models import ComponentState, Organisation

ROLES = {
    "any": "全部（权属、养护或主管）",
    "maintainer": "本单位养护",
    "owner": "本单位权属",
    "department": "本单位主管",
}
LIST_ROWS = 200
MAP_MAX = 20_000  # points handed to the browser as GeoJSON; beyond that the page says so
_CODES = re.compile(r"^[0-9A-Za-z_-]{1,20}(,[0-9A-Za-z_-]{1,20}){0,49}$")
_USCC = re.compile(r"^[0-9A-Z]{18}$")

COLUMNS = (
    ("标识码", lambda c: c.code),
    ("名称", lambda c: c.name),
    ("大类", lambda c: c.component_class.major_name),
    ("小类", lambda c: c.component_class.name),
    ("状态", lambda c: c.state.name if c.state_id else ""),
    ("权属单位", lambda c: c.owner.name if c.owner_id else ""),
    ("养护单位", lambda c: c.maintainer.name if c.maintainer_id else ""),
    ("主管部门", lambda c: c.department.name if c.department_id else ""),
    ("位置描述", lambda c: c.location_desc),
    ("单元网格", lambda c: c.grid_code),
    ("经度", lambda c: round(c.geom.centroid.x, 7)),
    ("纬度", lambda c: round(c.geom.centroid.y, 7)),
    ("变更日期", lambda c: c.change_date.isoformat() if c.change_date else ""),
)


class BadRequest(Exception):
    def __init__(self, field, message):
        super().__init__(message)
        self.field, self.message = field, message


def _organisation(request):
    """(organisation, None) or (None, reason the page cannot be shown)."""
    own = roles.organisation_of(request.user)
    wanted = request.GET.get("org", "")
    kind, _ = visibility.scope(request.user)
    if wanted and kind == visibility.ALL:
        if not _USCC.match(wanted):
            raise BadRequest("org", "须为 18 位统一社会信用代码")
        org = Organisation.objects.filter(uscc=wanted).first()
        return (org, None) if org else (None, f"没有统一社会信用代码为 {wanted} 的单位")
    if own is None:
        return None, "您的账号没有关联单位：请管理员在用户资料中设置所属单位。"
    if kind == visibility.NONE:
        return None, "您的账号无权查看部件。"
    return own, None


def _filters(request) -> dict:
    out = {}
    for name in ("class", "state"):
        value = request.GET.get(name, "")
        if value and not _CODES.match(value):
            raise BadRequest(name, "须为逗号分隔的代码")
        out[name] = value
    role = request.GET.get("role", "any") or "any"
    if role not in ROLES:
        raise BadRequest("role", f"须为 {', '.join(ROLES)} 之一")
    out["role"] = role
    return out


def _base(user, org, role):
    """The organisation's live components as `user` may see them."""
    f = {"unit" if role == "any" else role: org.uscc}
    return selectors.filter_components(selectors.visible_components(user), f)


def _selected(user, org, f):
    qs = _base(user, org, f["role"])
    if f["class"]:
        qs = qs.filter(component_class__code__in=f["class"].split(","))
    if f["state"]:
        qs = qs.filter(state__code__in=f["state"].split(","))
    return qs


def _prepare(request):
    org, reason = _organisation(request)
    f = _filters(request)
    return org, reason, f


def _bad(request, e: BadRequest, html: bool):
    if html:
        return render(request, "components/unit.html", {"error": f"{e.field}：{e.message}"}, status=400)
    return JsonResponse({"message": f"{e.field}: {e.message}", "field": e.field}, status=400)


@require_GET
@login_required
def unit_page(request):
    try:
        org, reason, f = _prepare(request)
    except BadRequest as e:
        return _bad(request, e, html=True)
    if org is None:
        return render(request, "components/unit.html", {"error": reason}, status=403 if "无权" in reason else 200)
    base = _base(request.user, org, f["role"])
    selected = _selected(request.user, org, f)
    rows = (
        selected.values("component_class__code", "component_class__name", "state__code")
        .annotate(n=Count("id"))
        .order_by("component_class__code")
    )
    states = list(ComponentState.objects.order_by("order", "code").values("code", "name"))
    table: dict[str, dict] = {}
    for r in rows:
        entry = table.setdefault(
            r["component_class__code"],
            {"code": r["component_class__code"], "name": r["component_class__name"], "by_state": {}, "total": 0},
        )
        entry["by_state"][r["state__code"]] = r["n"]
        entry["total"] += r["n"]
    used = {s for e in table.values() for s in e["by_state"]}
    shown_states = [s for s in states if s["code"] in used]
    for e in table.values():
        e["cells"] = [e["by_state"].get(s["code"], 0) for s in shown_states]
    totals = [sum(e["by_state"].get(s["code"], 0) for e in table.values()) for s in shown_states]
    total = sum(e["total"] for e in table.values())
    classes = (
        base.values("component_class__code", "component_class__name")
        .annotate(n=Count("id"))
        .order_by("component_class__code")
    )
    query = {
        k: v for k, v in (("org", request.GET.get("org", "")), *f.items()) if v and not (k == "role" and v == "any")
    }
    qs = urlencode(query)
    return render(
        request,
        "components/unit.html",
        {
            "org": org,
            "own": org == roles.organisation_of(request.user),
            "f": f,
            "roles": ROLES,
            "classes": classes,
            "states": states,
            "table": list(table.values()),
            "shown_states": shown_states,
            "totals": totals,
            "total": total,
            "components": selected.order_by("component_class__code", "code")[:LIST_ROWS],
            "list_rows": LIST_ROWS,
            "map_max": MAP_MAX,
            "query": qs,
        },
    )


@require_GET
@login_required
def unit_geojson(request):
    """The selected components as GeoJSON points (EPSG:4490 degrees) for the page's map."""
    try:
        org, reason, f = _prepare(request)
    except BadRequest as e:
        return _bad(request, e, html=False)
    if org is None:
        return JsonResponse({"message": reason, "field": None}, status=403)
    qs = _selected(request.user, org, f).order_by("code")
    count = qs.count()
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [round(geom.centroid.x, 7), round(geom.centroid.y, 7)]},
            "properties": {"code": code, "name": name, "class": cls, "state": state or ""},
        }
        for code, name, cls, state, geom in qs.values_list("code", "name", "component_class__name", "state_id", "geom")[
            :MAP_MAX
        ]
    ]
    body = {"type": "FeatureCollection", "count": count, "truncated": count > MAP_MAX, "features": features}
    return JsonResponse(body, json_dumps_params={"ensure_ascii": False})


@require_GET
@login_required
def unit_export(request, fmt):
    """CSV (UTF-8 with BOM, so Excel reads it) or XLSX: names of classes, states and units, not codes."""
    try:
        org, reason, f = _prepare(request)
    except BadRequest as e:
        return _bad(request, e, html=False)
    if org is None:
        return JsonResponse({"message": reason, "field": None}, status=403)
    qs = _selected(request.user, org, f).order_by("component_class__code", "code")
    header = [name for name, _ in COLUMNS]
    rows = ([get(c) for _, get in COLUMNS] for c in qs.iterator(chunk_size=2000))
    stamp = timezone.localdate().strftime("%Y%m%d")
    filename = f"本单位部件-{stamp}.{fmt}"
    if fmt == "csv":
        out = io.StringIO()
        out.write("\ufeff")
        w = csv.writer(out)
        w.writerow(header)
        w.writerows(rows)
        response = HttpResponse(out.getvalue().encode("utf-8"), content_type="text/csv; charset=utf-8")
    else:
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet("本单位部件")
        sheet.append(header)
        for row in rows:
            sheet.append(row)
        out = io.BytesIO()
        book.save(out)
        response = HttpResponse(
            out.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
    response["Content-Disposition"] = f"attachment; filename=\"units.{fmt}\"; filename*=UTF-8''{quote(filename)}"
    response["Cache-Control"] = "no-store"
    return response

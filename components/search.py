"""What the one search box finds in the registry (gis_core.search): components, component classes and
organisations, through the same selectors as the lists (a maintenance unit finds its own only).

Matching is by index: a digit query is an ID prefix (a range on the unique code index); text is
matched with ILIKE against names and addresses under pg_trgm indexes (migration 0009); classes and
organisations are small tables resolved first, so their components are an indexed `= ANY(...)`."""

from __future__ import annotations

from django.contrib.gis.db.models import Extent
from django.db.models import Count, Q

from gis_core import search
from gis_core.search import Group, Query, Result

from . import roles, selectors, visibility
from .models import ComponentClass, Organisation

ROLE_LABELS = {"department": "主管部门", "owner": "权属单位", "maintainer": "养护单位", "other": "其他"}
# More organisations or classes than this matching a word is a word too common to narrow anything.
MAX_REFERENCED = 500


def digit_range(prefix: str) -> tuple[str, str | None]:
    """[low, high) of the codes starting with the digit string `prefix`: a range the plain btree
    index on the code answers (codes are ASCII digits, so any collation orders them alike)."""
    digits = list(prefix)
    i = len(digits) - 1
    while i >= 0 and digits[i] == "9":
        i -= 1
    if i < 0:
        return prefix, None
    return prefix, "".join(digits[:i]) + str(int(digits[i]) + 1)


def code_prefix_q(prefix: str, field: str = "code") -> Q:
    low, high = digit_range(prefix)
    q = Q(**{f"{field}__gte": low})
    return q & Q(**{f"{field}__lt": high}) if high is not None else q


def _classes(query: Query):
    qs = ComponentClass.objects.select_related("scheme")
    if query.digits:
        return qs.filter(code__startswith=query.text) if len(query.text) <= 5 else qs.none()
    return qs.filter(Q(name__icontains=query.text) | Q(major_name__icontains=query.text))


def _organisations(user, query: Query):
    kind, own = visibility.scope(user)
    if kind == visibility.NONE:
        return Organisation.objects.none()
    qs = Organisation.objects.all()
    if kind == visibility.UNIT:
        qs = qs.filter(pk=own.pk)
    text = query.text
    if text.isascii() and text.isalnum() and len(text) <= 18:
        return qs.filter(Q(uscc__startswith=text.upper()) | Q(name__icontains=text))
    return qs.filter(name__icontains=text)


def _component_matches(user, query: Query):
    """Live components the user may see that the query names by ID, name, address, class or organisation."""
    text = query.text
    match = Q(name__icontains=text) | Q(location_desc__icontains=text)
    if query.digits and len(text) <= 17:
        match |= code_prefix_q(text)
    class_ids = list(_classes(query).values_list("pk", flat=True)[: MAX_REFERENCED + 1])
    if class_ids and len(class_ids) <= MAX_REFERENCED:
        match |= Q(component_class_id__in=class_ids)
    if not query.digits:
        org_ids = list(
            Organisation.objects.filter(name__icontains=text).values_list("pk", flat=True)[: MAX_REFERENCED + 1]
        )
        if org_ids and len(org_ids) <= MAX_REFERENCED:
            match |= Q(owner_id__in=org_ids) | Q(maintainer_id__in=org_ids)
    return selectors.visible_components(user).filter(retired=False).filter(match)


def _point_and_box(geom) -> tuple[float | None, float | None, list[float] | None]:
    if geom is None:
        return None, None, None
    if geom.geom_type == "Point":
        return geom.x, geom.y, None
    point = geom.point_on_surface
    return point.x, point.y, list(geom.extent)


def search_components(user, query: Query) -> Group:
    qs = _component_matches(user, query)
    count = qs.count()
    if count == 0:
        return search.EMPTY
    page = qs.order_by("code")[query.offset : query.offset + query.limit]
    results = []
    for c in page:
        lon, lat, bbox = _point_and_box(c.geom)
        where = " · ".join(
            part
            for part in (
                c.location_desc,
                f"网格 {c.grid_code}" if c.grid_code else "",
                f"养护 {c.maintainer.name}" if c.maintainer else "",
                c.state.name if c.state_id != "intact" else "",
            )
            if part
        )
        results.append(
            Result(
                id=c.code,
                title=f"{c.name or c.component_class.name} {c.code}",
                subtitle=f"{c.component_class.name} · {where}" if where else c.component_class.name,
                lon=lon,
                lat=lat,
                bbox=bbox,
                url=f"/c/{c.code}",
            )
        )
    return Group(count, results)


def search_classes(user, query: Query) -> Group:
    """Matching classes, those with live components first (both code schemes name a 路灯)."""
    if not roles.can_read(user):
        return search.EMPTY
    classes = list(_classes(query).order_by("code")[: MAX_REFERENCED + 1])
    if not classes:
        return search.EMPTY
    live = dict(
        selectors.visible_components(user)
        .filter(retired=False, component_class__in=classes)
        .order_by()
        .values_list("component_class_id")
        .annotate(n=Count("id"))
    )
    classes.sort(key=lambda k: (-live.get(k.pk, 0), k.code))
    results = [
        Result(
            id=k.code,
            title=k.name,
            subtitle=f"{k.code} · {k.major_name} · {k.scheme.name} · {live.get(k.pk, 0)} 个部件",
            url=f"/api/components/?class={k.code}",
        )
        for k in classes[query.offset : query.offset + query.limit]
    ]
    return Group(len(classes), results)


def search_organisations(user, query: Query) -> Group:
    orgs = _organisations(user, query).order_by("name", "uscc")
    count = orgs.count()
    if count == 0:
        return search.EMPTY
    page = list(orgs[query.offset : query.offset + query.limit])
    visible = selectors.visible_components(user).filter(retired=False)
    results = []
    for org in page:
        mine = visible.filter(Q(owner=org) | Q(maintainer=org))
        agg = mine.aggregate(n=Count("id"), box=Extent("geom"))
        roles_text = "、".join(ROLE_LABELS.get(k, k) for k in (org.kinds or []) if k in ROLE_LABELS)
        box = list(agg["box"]) if agg["box"] else None
        results.append(
            Result(
                id=org.uscc,
                title=org.name,
                subtitle=" · ".join(p for p in (roles_text, org.uscc, f"{agg['n']} 个部件") if p),
                lon=(box[0] + box[2]) / 2 if box else None,
                lat=(box[1] + box[3]) / 2 if box else None,
                bbox=box,
                url=f"/api/organisations/{org.uscc}/summary/",
            )
        )
    return Group(count, results)


search.register(search.Provider("component", "部件", search_components, order=10))
search.register(search.Provider("class", "部件类别", search_classes, order=20))
search.register(search.Provider("organisation", "单位", search_organisations, order=40))

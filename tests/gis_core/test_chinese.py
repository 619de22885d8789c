"""Chinese throughout: the API docs' title and tags, the 404 page (JSON under /api/), admin names."""

import pytest
from django.apps import apps

from tests.factories import make_user

pytestmark = pytest.mark.django_db


def test_api_docs_title_and_tags_are_chinese(client):
    client.force_login(make_user("docs-reader", "dispatcher"))
    schema = client.get("/api/schema/", {"format": "json"}).json()
    assert schema["info"]["title"].startswith("网格化城市管理接口")
    tags = {t["name"] for t in schema["tags"]}
    assert {"部件", "网格", "搜索", "单位"} <= tags
    assert not tags & {"components", "grids", "organisations"}
    used = {t for ops in schema["paths"].values() for op in ops.values() for t in op.get("tags", [])}
    assert used <= tags
    docs = client.get("/api/docs/")
    assert docs.status_code == 200


def test_404_page_is_chinese(client):
    r = client.get("/no/such/page")
    assert r.status_code == 404
    html = r.content.decode()
    assert "页面不存在" in html and 'lang="zh-CN"' in html and "返回地图" in html


def test_404_under_api_stays_json(client):
    r = client.get("/api/no-such-thing/")
    assert r.status_code == 404 and r["Content-Type"].startswith("application/json")
    assert r.json()["field"] is None and "没有这个接口" in r.json()["message"]


def _has_cjk(text) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in str(text))


def _registered():
    from django.contrib import admin

    return sorted(admin.site._registry.items(), key=lambda kv: kv[0]._meta.label)


# Our own apps: every field is named in Chinese, not only those an admin page shows today.
OWN_APPS = {"components", "layers", "incidents", "patrols", "cameras", "roads", "tiles"}


def test_every_admin_model_is_named_in_chinese():
    from django.contrib.admin.utils import get_fields_from_path, label_for_field

    for model, model_admin in _registered():
        meta = model._meta
        assert _has_cjk(meta.verbose_name) and _has_cjk(meta.verbose_name_plural), meta.label
        assert _has_cjk(apps.get_app_config(meta.app_label).verbose_name), meta.app_label
        for name in model_admin.get_list_display(None):
            assert _has_cjk(label_for_field(name, model, model_admin)), f"{meta.label} list_display {name}"
        for entry in model_admin.list_filter:
            name = entry if isinstance(entry, str) else entry[0] if isinstance(entry, tuple) else None
            title = get_fields_from_path(model, name)[-1].verbose_name if name else entry.title
            assert _has_cjk(title), f"{meta.label} list_filter {entry}"
        if meta.app_label not in OWN_APPS:
            continue
        for field in meta.concrete_fields:
            if field.name == "id" or field.auto_created:
                continue
            assert _has_cjk(field.verbose_name), f"{meta.label}.{field.name}"
            # The help under a form field is read by the same staff as its label.
            assert not field.help_text or _has_cjk(field.help_text), f"{meta.label}.{field.name} help_text"


def test_inline_columns_are_chinese():
    for _model, model_admin in _registered():
        for inline in model_admin.inlines:
            inline_meta = inline.model._meta
            assert _has_cjk(inline_meta.verbose_name_plural), inline_meta.label
            for name in inline.fields or ():
                assert _has_cjk(inline_meta.get_field(name).verbose_name), f"{inline_meta.label}.{name}"


def test_choice_labels_are_chinese():
    # MIME types are names, not words: the one choice list left as it is.
    for model, _ in _registered():
        if model._meta.app_label not in OWN_APPS:
            continue
        for field in model._meta.concrete_fields:
            if not field.choices or field.name == "content_type":
                continue
            for value, label in field.flatchoices:
                assert value == "" or _has_cjk(label), f"{model._meta.label}.{field.name}: {value}"


def test_admin_index_shows_chinese_model_names(client):
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.create_superuser("zh-root", "r@example.org", "pw-zh-root-1234"))
    html = client.get("/admin/").content.decode()
    for name in (
        "部件类别",
        "单位",
        "部件状态",
        "网格",
        "网格层级",
        "权属移交",
        "案件",
        "案件类别",
        "派遣规则",
        "变更历史",
    ):
        assert f">{name}<" in html, name
    for app_name in ("城市部件", "图层", "案件", "巡查", "视频监控", "系统"):
        assert app_name in html, app_name


def test_every_admin_page_renders_for_a_superuser(client):
    """Each app's index, each changelist (with a case on it and its steps), each add page an admin may
    use and the change page of a row: no error, and the columns' Chinese headers on the list."""
    from django.contrib.admin.utils import label_for_field
    from django.contrib.auth import get_user_model
    from django.contrib.gis.geos import Point
    from django.test import RequestFactory
    from django.urls import resolve, reverse
    from django.utils.timezone import now

    from components import roles
    from components.models import ComponentClass
    from layers.cameras import services as camera_services
    from layers.incidents import services
    from layers.incidents.models import CalendarOverride, GridPopulation, GridStaff, Notification
    from layers.patrols.models import DeviceClock, PatrolAssignment, QuarantinedFix
    from tests.factories import ComponentFactory

    lon, lat = 116.8255, 35.5455  # a street corner in 兖州, inside the demo district
    dispatcher = make_user("zh-dispatcher", roles.DISPATCHER)
    case = services.report_case(dispatcher, "06010", (lon, lat), "EPSG:4490", "垃圾")
    GridStaff.objects.create(level=0, grid_code="370882001001", name="张三", duty="网格员")
    PatrolAssignment.objects.create(worker=dispatcher, grid_code="370882001001", valid_from="2026-01-01")
    Notification.objects.create(recipient=dispatcher, case=case, kind="assigned", stage_key="k", message="新案件")
    GridPopulation.objects.create(grid_code="370882001001", population=1200, as_of="2026-01-01")
    CalendarOverride.objects.create(date="2026-10-01", working=False, note="国庆节")
    DeviceClock.objects.create(worker=dispatcher, device_id="d1", skew_seconds=75)
    QuarantinedFix.objects.create(
        worker=dispatcher, fix_time=now(), receive_time=now(), source_crs="EPSG:4326", reason="future", raw={}
    )
    ComponentFactory(component_class=ComponentClass.objects.get(code="0118"), geom=Point(lon, lat, srid=4490))
    camera_services.create(
        make_user("zh-editor", roles.GIS_EDITOR),
        {
            "device_id": "37081200081321000001",
            "name": "路口1",
            "lon": lon,
            "lat": lat,
            "azimuth": 0,
            "h_fov": 90,
            "range_m": 100,
        },
    )
    root = get_user_model().objects.create_superuser("zh-root2", "r2@example.org", "pw-zh-root-1234")
    client.force_login(root)

    request = RequestFactory().get("/admin/")
    request.user = root
    for app_label in sorted({model._meta.app_label for model, _ in _registered()}):
        r = client.get(reverse("admin:app_list", args=[app_label]))
        assert r.status_code == 200, app_label
    for model, model_admin in _registered():
        meta = model._meta
        url = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        r = client.get(url)
        assert r.status_code == 200, url
        html = r.content.decode()
        request.resolver_match = resolve(url)
        obj = model_admin.get_queryset(request).first()
        if obj is not None:
            for name in model_admin.get_list_display(request):
                header = str(label_for_field(name, model, model_admin))
                assert header in html, f"{url}: {header}"
            page = client.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk]))
            assert page.status_code == 200, f"{url} {obj.pk}"
        if model_admin.has_add_permission(request):
            add = client.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_add"))
            assert add.status_code == 200, f"{url} add"

"""The clock tables every installation starts with: time limits from the seed articles and city rules
(STANDARDS.md, "Time limits seen in published city rules"), the default working hours, and the copy
of `chinesecalendar`'s holidays into the database calendar. Rows that exist are left alone, so an
admin's edits survive a re-seed."""

import chinese_calendar
from django.db import transaction

# (stage, class code or None = default, severity or "" = any, amount, unit, source)
LIMITS = [
    ("dispatch", None, "", 1, "working_hours", "福州: 核实、立案、派遣 1 个工作时"),
    ("dispatch", None, "urgent", 10, "calendar_minutes", "太原: 紧急案件 10 分钟内立案派遣"),
    ("handle", None, "", 5, "working_days", "虹桥: 重大事件 5 个工作日内解决 (默认)"),
    ("handle", None, "normal", 2, "working_hours", "虹桥: 一般事件 2 小时内解决"),
    ("handle", None, "urgent", 2, "calendar_hours", "紧急: 2 小时 (井盖权属单位 2 小时到场)"),
    ("handle", "0118", "", 1, "working_days", "太原: 路灯 1 个工作日内修复"),
    ("handle", "0101", "", 6, "calendar_hours", "广州: 井盖 6 小时内修复"),
    ("handle", "0102", "", 6, "calendar_hours", "广州: 井盖 6 小时内修复"),
    ("handle", "06010", "", 4, "working_hours", "暴露垃圾 4 个工作时"),
    ("verify", None, "", 1, "working_hours", "太原: 现场核查 1 小时 (城区)"),
]
DEFAULT_PERIODS = [["08:30", "12:00"], ["13:30", "17:30"]]


@transaction.atomic
def seed_time_limits(version: str | None = None) -> int:
    from .clock_models import TimeLimit, WorkingHoursSetting
    from .models import CaseClass
    from .seed import VERSION

    made = 0
    for stage, code, severity, amount, unit, note in LIMITS:
        cls = None
        if code is not None:
            cls = CaseClass.objects.filter(version=version or VERSION, code=code).first()
            if cls is None:
                continue
        _, created = TimeLimit.objects.get_or_create(
            stage=stage,
            case_class=cls,
            severity=severity,
            defaults={"amount": amount, "unit": unit, "note": note},
        )
        made += created
    WorkingHoursSetting.objects.get_or_create(organisation=None, defaults={"periods": DEFAULT_PERIODS})
    return made


def package_years() -> list[int]:
    """The years `chinesecalendar` covers (it raises NotImplementedError outside them)."""
    days = list(chinese_calendar.holidays) + list(chinese_calendar.workdays)
    return list(range(min(days).year, max(days).year + 1))


@transaction.atomic
def copy_package_calendar(years=None) -> dict:
    """Copies the package's holidays and make-up working days (调休) into CalendarOverride and marks
    those years entered (CalendarYear). Days already in the table are kept (an admin's word wins).
    Weekend holidays are copied too, so the table reads as the State Council notice does."""
    from .clock_models import CalendarOverride, CalendarYear
    from .clock_tasks import recompute_after_commit

    years = set(years or package_years())
    existing = set(CalendarOverride.objects.values_list("date", flat=True))
    rows = []
    for table, working in ((chinese_calendar.holidays, False), (chinese_calendar.workdays, True)):
        for day, name in table.items():
            if day.year in years and day not in existing:
                rows.append(
                    CalendarOverride(date=day, working=working, note=f"{name} ({'调休上班' if working else '放假'})")
                )
    CalendarOverride.objects.bulk_create(rows, ignore_conflicts=True)
    known = set(CalendarYear.objects.values_list("year", flat=True))
    CalendarYear.objects.bulk_create(
        [CalendarYear(year=y, note="chinesecalendar") for y in sorted(years - known)], ignore_conflicts=True
    )
    recompute_after_commit()  # bulk_create sends no signals
    return {"days": len(rows), "years": len(years - known)}

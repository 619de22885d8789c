"""The reports page (/reports/): a plain Django page whose own script (static incidents/reports.js)
reads /api/incidents/reports/ and /api/incidents/safety-index/ and draws the charts as SVG."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from . import reports
from .reports_api import may_read_reports


@require_GET
@login_required
def reports_page(request):
    if not may_read_reports(request.user):
        return render(request, "incidents/reports_forbidden.html", status=403)
    context = {"levels": [(k, name) for k, (_, name) in reports.LEVELS.items()]}
    return render(request, "incidents/reports.html", context)


urlpatterns = [path("", reports_page, name="incident-reports-page")]

"""The 404 answer for addresses no view serves: JSON `{"message", "field"}` under /api/ (as every
REST error), a Chinese page everywhere else. Views that find no object answer for themselves."""

from django.http import HttpResponseNotFound, JsonResponse
from django.template import loader
from django.utils.cache import patch_cache_control

JSON_PREFIXES = ("/api/", "/open311/")


def page_not_found(request, exception=None):
    if request.path.startswith(JSON_PREFIXES):
        response = JsonResponse(
            {"message": f"没有这个接口 (no such API address): {request.path[:200]}", "field": None, "errors": []},
            status=404,
            json_dumps_params={"ensure_ascii": False},
        )
    else:
        body = loader.render_to_string("404.html", {"path": request.path[:200]}, request)
        response = HttpResponseNotFound(body)
    patch_cache_control(response, no_cache=True)
    return response

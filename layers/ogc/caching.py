"""Every OGC answer can change: it depends on who asks and on the last edit. QGIS keeps an HTTP cache
of GET answers, and WFS paging asks the same URL each time, so an answer without cache headers came
back from that cache after an edit (the old geometry reappeared on reload). `no-store` rather than
`no-cache` with a validator: GetFeature answers are streamed, so an ETag would cost a second read of
the rows, and answers for one user must never be kept by a shared cache anyway."""

from functools import wraps

from django.utils.cache import patch_vary_headers


def changing_answer(view):
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if not response.has_header("Cache-Control"):
            response["Cache-Control"] = "no-store"
        patch_vary_headers(response, ("Authorization", "Cookie"))
        return response

    return wrapped

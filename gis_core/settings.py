"""Settings from the environment (12-factor). Nothing secret lives in the repository."""

import os
import secrets
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from gis_core.online_basemap import templates as _basemap_templates

BASE_DIR = Path(__file__).resolve().parent.parent
STATE_DIR = Path(os.environ.get("GRIDCITY_STATE", BASE_DIR / ".local"))

# development | test | production. Production is the default so that forgetting to set it is safe.
ENVIRONMENT = os.environ.get("GRIDCITY_ENV", "production")
DEBUG = os.environ.get("DJANGO_DEBUG", "0") == "1" and ENVIRONMENT != "production"


def _secret_key() -> str:
    key = os.environ.get("DJANGO_SECRET_KEY")
    if key:
        return key
    if ENVIRONMENT == "production":
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set in production")
    # Development: a random key kept beside the local services, never in the repository.
    path = STATE_DIR / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(50)
        path.write_text(key)
        return key


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = [h for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.gis",
    "rest_framework",
    "rest_framework_gis",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "pgtrigger",
    "pghistory",
    "pghistory.admin",
    "gis_core.apps.GisCoreConfig",
    "components",
    "layers",
    "tiles.apps.TilesConfig",
    "layers.incidents",
    "layers.patrols",
    "layers.cameras",  # cameras (issue 12, docs/cameras.md)
    "layers.roads",  # street centre lines (docs/roads.md)
    "layers.basemap",  # offline basemap: water, buildings, green ... (docs/basemap.md)
]
if ENVIRONMENT == "test":
    # A domain that exists only in tests, proving a new app's map layers need no change elsewhere.
    INSTALLED_APPS.append("tests.throwaway.apps.ThrowawayConfig")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "pghistory.middleware.HistoryMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "gis_core.urls"
WSGI_APPLICATION = "gis_core.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

DATABASE_URL = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:54329/gridcity")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=600, conn_health_checks=True)}
# PostGIS; its health check polls the socket instead of a SELECT 1 round trip (gis_core/db/base.py).
DATABASES["default"]["ENGINE"] = "gis_core.db"
# No request may keep the database busy for long, whatever it asks for: well below the worker
# timeout (gunicorn --timeout 60 in the Makefile), so the database always stops first.
GRIDCITY_STATEMENT_TIMEOUT_MS = int(os.environ.get("GRIDCITY_STATEMENT_TIMEOUT_MS", "10000"))
DATABASES["default"].setdefault("OPTIONS", {})["options"] = f"-c statement_timeout={GRIDCITY_STATEMENT_TIMEOUT_MS}"
# Django opens psycopg connections with prepare_threshold=None, which makes psycopg ignore even an
# explicit `execute(..., prepare=True)`: each vector tile was planned again (~0.5 ms, as long as running
# a small tile). With a threshold, the tile statements (tiles/render.py, server-side cursors) are
# prepared once per connection; Django's own queries use client-side binding and are never prepared.
DATABASES["default"]["OPTIONS"]["prepare_threshold"] = 5
# OGC (WFS/WMS) limits, documented in docs/wfs.md: body size per operation, the database time one
# request may spend in total, and how many expensive requests one client may have running at once.
GRIDCITY_OGC_MAX_TRANSACTION_BYTES = int(os.environ.get("GRIDCITY_OGC_MAX_TRANSACTION_BYTES", 5 * 1024 * 1024))
GRIDCITY_OGC_MAX_REQUEST_BYTES = int(os.environ.get("GRIDCITY_OGC_MAX_REQUEST_BYTES", 256 * 1024))
GRIDCITY_OGC_REQUEST_DB_MS = int(os.environ.get("GRIDCITY_OGC_REQUEST_DB_MS", "20000"))
GRIDCITY_OGC_CONCURRENT_PER_CLIENT = int(os.environ.get("GRIDCITY_OGC_CONCURRENT_PER_CLIENT", "2"))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:63799/0")
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", CELERY_BROKER_URL)
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_TRACK_STARTED = True
# Beat crontabs (nightly coverage at 01:30) are local city time, not UTC.
CELERY_TIMEZONE = "Asia/Shanghai"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Tests keep off a running `make up` on the same Redis: their own queue and key prefix (and, from the
# Makefile, their own Redis database), so a development worker never takes a test's task.
_REDIS_SCOPE = "gridcity-test" if ENVIRONMENT == "test" else "gridcity"
# Tasks are acknowledged when done (acks_late): the message of a task whose worker died goes back to
# the queue once it has been out this long. Keep it above the longest task's run time; a task delivered
# again while the first delivery still runs finds its job claimed and waits (components.tasks).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": int(os.environ.get("GRIDCITY_TASK_REDELIVER_S", "900")),
    # How often a worker looks for such messages: every 10 s (kombu's default is about every 100 s).
    "unacked_restore_interval": min(10, int(os.environ.get("GRIDCITY_TASK_REDELIVER_S", "900"))),
    "unacked_restore_throttle": 1,
}
CELERY_TASK_DEFAULT_QUEUE = os.environ.get(
    "GRIDCITY_CELERY_QUEUE", "gridcity-test" if ENVIRONMENT == "test" else "celery"
)
REDIS_URL = os.environ.get("REDIS_URL", CELERY_BROKER_URL)

# --- incidents escalation (layers.incidents.escalation, reminders, tasks) ---
# Beat runs both every few minutes; each is idempotent. The escalation task also announces cases that
# turned yellow or red in the last GRIDCITY_LIGHTS_ANNOUNCE_MINUTES (keep it above the beat interval),
# so cached tiles show their new colour.
CELERY_BEAT_SCHEDULE = {
    "incidents-escalate": {"task": "incidents.escalate_cases", "schedule": 300.0},
    "incidents-reminders": {"task": "incidents.send_reminders", "schedule": 600.0},
    # A parked case's deadline moves on while it waits; the stored due_at follows every 5 minutes.
    "incidents-refresh-paused": {"task": "incidents.refresh_paused_cases", "schedule": 300.0},
    "incidents-safety-index": {"task": "incidents.refresh_safety_index", "schedule": 3600.0},
    "incidents-sweep-photos": {"task": "incidents.sweep_case_photos", "schedule": 3600.0},
    # patrols: month partitions of the fix table made ahead (layers/patrols/partitions.py).
    "patrols-make-partitions": {"task": "patrols.make_partitions", "schedule": 86400.0},
    # patrols: coverage of yesterday, nightly at 01:30, and of today so far every 30 minutes.
    "patrols-coverage-yesterday": {"task": "patrols.compute_coverage", "schedule": crontab(hour=1, minute=30)},
    "patrols-coverage-today": {"task": "patrols.compute_coverage", "schedule": 1800.0, "args": ("today",)},
    # patrols: heat-map COGs cached on disk, pruned by age and size (layers/patrols/heatmap.py).
    "patrols-prune-heatmaps": {"task": "patrols.prune_heatmaps", "schedule": 3600.0},
}
# Working hours a case may wait in 待受理 / 立案派遣 before it goes up a level, then between levels.
GRIDCITY_ESCALATE_UNCLAIMED_HOURS = {
    "reported": float(os.environ.get("GRIDCITY_ESCALATE_REPORTED_HOURS", "2")),
    "dispatched": float(os.environ.get("GRIDCITY_ESCALATE_DISPATCHED_HOURS", "4")),
}
GRIDCITY_ESCALATE_STEP_HOURS = float(os.environ.get("GRIDCITY_ESCALATE_STEP_HOURS", "4"))
GRIDCITY_LIGHTS_ANNOUNCE_MINUTES = float(os.environ.get("GRIDCITY_LIGHTS_ANNOUNCE_MINUTES", "15"))
# Sessions are read on every tile request: keep them in Redis in front of the database.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": _REDIS_SCOPE,
    }
}
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
# Set to also keep unfiltered tiles as files for nginx to serve (deploy/nginx/gridcity.conf).
TILE_DISK_DIR = os.environ.get("GRIDCITY_TILE_DISK_DIR", "")
# Bump to drop every cached tile at once (e.g. after changing how tiles are encoded).
TILE_CACHE_VERSION = os.environ.get("GRIDCITY_TILE_CACHE_VERSION", "1")

# The backend throttles failed logins and refuses the published demo passwords in production (components.auth).
AUTHENTICATION_BACKENDS = ["components.auth.DemoPasswordGuardBackend"]
# Failed logins (gis_core.auth): at this many failures within the window, that account, or that client
# address, may not try again until the window (opened by its first failure) closes. Kept in Redis.
LOGIN_THROTTLE_ACCOUNT_FAILURES = int(os.environ.get("GRIDCITY_LOGIN_FAILURES_PER_ACCOUNT", "5"))
LOGIN_THROTTLE_ADDRESS_FAILURES = int(os.environ.get("GRIDCITY_LOGIN_FAILURES_PER_ADDRESS", "20"))
LOGIN_THROTTLE_WINDOW_SECONDS = int(os.environ.get("GRIDCITY_LOGIN_THROTTLE_WINDOW_SECONDS", "900"))
# Proxies (nginx on this host) whose X-Forwarded-For names the client's address.
LOGIN_THROTTLE_TRUSTED_PROXIES = frozenset(
    a.strip() for a in os.environ.get("GRIDCITY_TRUSTED_PROXIES", "127.0.0.1,::1").split(",") if a.strip()
)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("GRIDCITY_STATIC_ROOT", STATE_DIR / "static"))
# Browser libraries from npm (package.json; `npm ci` runs scripts/vendor-static.js, which copies them here):
# OpenLayers for the admin map widget, MapLibre GL JS for the viewer; served by us, never from a CDN.
STATICFILES_DIRS = [BASE_DIR / "node_modules" / ".gridcity-static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("GRIDCITY_MEDIA_ROOT", STATE_DIR / "media"))
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 50 * 1024 * 1024

# The public address printed in QR codes on asset labels.
PUBLIC_BASE_URL = os.environ.get("GRIDCITY_PUBLIC_URL", "http://127.0.0.1:8000")

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Basic first: DRF answers anonymous requests 401 with the first class's challenge (403 without one).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "gis_core.auth.BasicAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "gis_core.parsers.DepthLimitedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "components.api.pagination.FeaturePagination",
    "PAGE_SIZE": 100,
    "EXCEPTION_HANDLER": "gis_core.api_errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "网格化城市管理接口 GridCity API",
    "DESCRIPTION": "城市部件登记与网格化管理接口：部件、单位、权属查询、批量导入、网格、事件、巡查、视频监控、搜索。"
    "除注明外坐标为 CGCS2000 (EPSG:4490) 经纬度；错误以 JSON `{message, field}` 返回。",
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "gis_core.openapi.chinese_tags"],
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI served from our own static files: the docs must work with no internet.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# History context (who, which URL) for writes; reads need none and would pay for it on every query.
PGHISTORY_MIDDLEWARE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
# The change history admin under Chinese names (gis_core/models.py, gis_core/admin.py).
PGHISTORY_ADMIN_MODEL = "gis_core.HistoryEvent"
PGHISTORY_ADMIN_CLASS = "gis_core.admin.HistoryEventAdmin"

# The district the registry serves: imports outside it are refused. Defaults: 370812 兖州区.
GRIDCITY_ADMIN_CODE = os.environ.get("GRIDCITY_ADMIN_CODE", "370812")
GRIDCITY_DISTRICT_BBOX = tuple(
    float(v) for v in os.environ.get("GRIDCITY_DISTRICT_BBOX", "116.55,35.38,117.05,35.75").split(",")
)

# Optional online basemap under our layers in the viewer: raster tile URL templates, space-separated,
# drawn bottom first (e.g. 天地图 vec_w and cva_w with the site's key). GCJ-02/BD-09 sources (高德, 腾讯,
# 百度) are refused here, at start-up (gis_core/online_basemap.py, docs/basemap.md). Empty: none.
GRIDCITY_BASEMAP_URL = os.environ.get("GRIDCITY_BASEMAP_URL", "").strip()
_basemap_templates(GRIDCITY_BASEMAP_URL)
GRIDCITY_BASEMAP_ATTRIBUTION = os.environ.get("GRIDCITY_BASEMAP_ATTRIBUTION", "")

# Grid codes: "cjt213" (14-digit base grids) or "gbt47678" (15-digit, GB/T 47678.3).
GRIDCITY_GRID_CODE_STANDARD = os.environ.get("GRIDCITY_GRID_CODE_STANDARD", "cjt213")

# Imports (components.importing): what one upload may cost before it is refused.
# The upload itself, checked from Content-Length before any byte of the body is read.
GRIDCITY_IMPORT_MAX_UPLOAD_BYTES = int(os.environ.get("GRIDCITY_IMPORT_MAX_UPLOAD_BYTES", 200 * 1024 * 1024))
# A zip, from its directory before extracting and again by counting while extracting: the sum of
# uncompressed sizes, the members, and the compression ratio (per member and overall) once a member
# or the whole is larger than GRIDCITY_IMPORT_ZIP_RATIO_FROM (small files compress by any ratio).
# Deflate tops out near 1,030:1 (bzip2 and LZMA go far beyond); a real .dbf of mostly blank text
# fields deflates about 130:1, hence 500.
GRIDCITY_IMPORT_MAX_UNZIPPED_BYTES = int(os.environ.get("GRIDCITY_IMPORT_MAX_UNZIPPED_BYTES", 1024 * 1024 * 1024))
GRIDCITY_IMPORT_MAX_ZIP_MEMBERS = int(os.environ.get("GRIDCITY_IMPORT_MAX_ZIP_MEMBERS", 100))
GRIDCITY_IMPORT_MAX_ZIP_RATIO = float(os.environ.get("GRIDCITY_IMPORT_MAX_ZIP_RATIO", 500))
GRIDCITY_IMPORT_ZIP_RATIO_FROM = int(os.environ.get("GRIDCITY_IMPORT_ZIP_RATIO_FROM", 1024 * 1024))
# One cell of a file, in characters (fields with a shorter limit of their own keep it); WKT may be longer.
GRIDCITY_IMPORT_MAX_CELL_CHARS = int(os.environ.get("GRIDCITY_IMPORT_MAX_CELL_CHARS", 10_000))
GRIDCITY_IMPORT_MAX_WKT_CHARS = int(os.environ.get("GRIDCITY_IMPORT_MAX_WKT_CHARS", 1_000_000))

# Incidents intake (issue 10, part "intake": photos, duplicates, merging; docs/incidents-photos.md).
# A photo: JPEG, PNG or WebP by its content, at most this many bytes and pixels (decompression bombs).
GRIDCITY_PHOTO_MAX_BYTES = int(os.environ.get("GRIDCITY_PHOTO_MAX_BYTES", 8 * 1024 * 1024))
GRIDCITY_PHOTO_MAX_PIXELS = int(os.environ.get("GRIDCITY_PHOTO_MAX_PIXELS", 40_000_000))
# Stored photos are scaled down to fit this many pixels on their long side (evidence, not prints).
GRIDCITY_PHOTO_MAX_SIDE = int(os.environ.get("GRIDCITY_PHOTO_MAX_SIDE", 4096))
GRIDCITY_PHOTO_MAX_PER_EVENT = int(os.environ.get("GRIDCITY_PHOTO_MAX_PER_EVENT", 9))
# Uploads not yet attached to a report or step, per user; older than the hours below they are swept.
GRIDCITY_PHOTO_MAX_PENDING = int(os.environ.get("GRIDCITY_PHOTO_MAX_PENDING", 30))
GRIDCITY_PHOTO_PENDING_HOURS = int(os.environ.get("GRIDCITY_PHOTO_PENDING_HOURS", 48))
# Possible duplicates of a report: open cases of the same class this near, reported this recently.
GRIDCITY_INCIDENT_DUPLICATE_METRES = float(os.environ.get("GRIDCITY_INCIDENT_DUPLICATE_METRES", 50))
GRIDCITY_INCIDENT_DUPLICATE_HOURS = int(os.environ.get("GRIDCITY_INCIDENT_DUPLICATE_HOURS", 24))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("GRIDCITY_LOG_LEVEL", "WARNING")},
}

if ENVIRONMENT == "production":
    SESSION_COOKIE_SECURE = os.environ.get("GRIDCITY_INSECURE_COOKIES") != "1"
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# Debian 12 ships GDAL 3.6. Untrusted CRS text never reaches GDAL here: the edge parses CRS
# with gis_core.crs (pyproj) and hands GeoDjango only integer SRIDs.
SILENCED_SYSTEM_CHECKS = ["gis.W001"]

# Open311 GeoReport v2 (layers/incidents/open311, helper "open311"): what discovery tells app developers.
GRIDCITY_OPEN311_CONTACT = os.environ.get("GRIDCITY_OPEN311_CONTACT", "兖州区城市运行管理服务中心 (数字城管): 12345")
GRIDCITY_OPEN311_KEY_SERVICE = os.environ.get(
    "GRIDCITY_OPEN311_KEY_SERVICE", "API key 请向区城市运行管理服务中心申请 (管理员执行 manage.py open311_client 生成)"
)
GRIDCITY_OPEN311_CHANGESET = os.environ.get("GRIDCITY_OPEN311_CHANGESET", "2026-12-03 00:00")
# Incidents clock (helper "clock"): after a change of time limits, working hours or the calendar, the
# open cases' deadlines are recomputed in the Celery worker ("0": in the process that made the change).
GRIDCITY_INCIDENT_RECOMPUTE_IN_WORKER = os.environ.get("GRIDCITY_INCIDENT_RECOMPUTE_IN_WORKER", "1") == "1"
# Incidents reports and 平安指数 (issue 10 section 5, layers/incidents/reports.py, safety_index.py).
# Organisations whose name holds one of these count as law enforcement in the 70/20/10 figure.
GRIDCITY_LAW_ENFORCEMENT_MARKERS = ("执法",)
# A report's queries may run longer than a request's usual statement timeout (a year at city scale).
GRIDCITY_REPORT_STATEMENT_TIMEOUT_MS = int(os.environ.get("GRIDCITY_REPORT_STATEMENT_TIMEOUT_MS", 60_000))
# 平安指数: cases reported in the last N days, weighted by major class (default 1) times severity,
# per 1,000 residents (rate); index = 100 * exp(-rate / SCALE). Residents per km² when a base grid
# has no population of its own.
GRIDCITY_SAFETY_WINDOW_DAYS = int(os.environ.get("GRIDCITY_SAFETY_WINDOW_DAYS", 30))
GRIDCITY_SAFETY_SCALE = float(os.environ.get("GRIDCITY_SAFETY_SCALE", 20))
GRIDCITY_SAFETY_CLASS_WEIGHTS = {"06": 1.0, "07": 0.5, "08": 1.0, "09": 1.5, "10": 1.0}
GRIDCITY_SAFETY_SEVERITY_WEIGHTS = {"normal": 1.0, "major": 2.0, "urgent": 3.0}
GRIDCITY_SAFETY_DEFAULT_DENSITY_KM2 = 8000

# Patrols (issue 11, layers/patrols, docs/patrols.md): fix ingest limits and quarantine thresholds.
GRIDCITY_PATROL_PARTITIONS_AHEAD = 3  # months of fix partitions made ahead of today
# Heat-map COGs cached in STATE_DIR/heatmaps: dropped when unused this many days, and least recently used
# first beyond this many MB (the hourly beat task patrols.prune_heatmaps).
GRIDCITY_PATROL_HEATMAP_CACHE_DAYS = float(os.environ.get("GRIDCITY_PATROL_HEATMAP_CACHE_DAYS", "7"))
GRIDCITY_PATROL_HEATMAP_CACHE_MB = float(os.environ.get("GRIDCITY_PATROL_HEATMAP_CACHE_MB", "1024"))
GRIDCITY_PATROL_MAX_FIXES = 10_000  # per POST; more: 413
GRIDCITY_PATROL_MAX_BODY_BYTES = int(os.environ.get("GRIDCITY_PATROL_MAX_BODY_BYTES", 4 * 1024 * 1024))
GRIDCITY_PATROL_FUTURE_SECONDS = 300  # a fix this far after its arrival is from a wrong clock
GRIDCITY_PATROL_EARLIEST = "2020-01-01T00:00:00+08:00"  # earlier: GPS week rollover or an unset clock
GRIDCITY_PATROL_MAX_ACCURACY_M = 100.0  # reported accuracy worse than this is not a position
GRIDCITY_PATROL_MAX_SPEED_MS = 40.0  # ~144 km/h from the previous good fix: a jump, not a walk
GRIDCITY_PATROL_SPEED_WINDOW_MINUTES = 10  # a previous fix older than this is not compared (bounds a bad anchor)
GRIDCITY_PATROL_STOP_METRES = 50.0  # playback: within this distance ...
GRIDCITY_PATROL_STOP_MINUTES = 5.0  # ... for this long is a stop
GRIDCITY_PATROL_SHIFT_GAP_MINUTES = 60.0  # playback: a silence this long ends a shift

# Cameras: a range derived from lens data is where the image still holds this many pixels per metre
# across the scene (IEC 62676-4 DORI: detect 25, observe 62, recognise 125, identify 250).
GRIDCITY_CAMERA_RANGE_PIXELS_PER_METRE = float(os.environ.get("GRIDCITY_CAMERA_RANGE_PIXELS_PER_METRE", 125))

"""The printed page around a map image (Pillow): title, map with a north arrow, legend from the
catalogue, scale bar with its representative fraction at the page's resolution, date and CRS.
No database, no mapnik: pure drawing on the PNG the WMS path rendered."""

import datetime as dt
import io
import math
from functools import lru_cache

from django.utils import timezone
from PIL import Image, ImageDraw, ImageFont

FONT_FILES = (
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),  # face 2: Noto Sans CJK SC
    ("/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 0),
)
INK = (31, 41, 55)
MUTED = (100, 116, 139)
CSS_DPI = 96  # a screen pixel; scale 2 prints at 192 dpi
METRES_PER_INCH = 0.0254


@lru_cache(maxsize=32)
def font(size: int):
    for path, index in FONT_FILES:
        try:
            return ImageFont.truetype(path, size, index=index)
        except OSError:
            continue
    return ImageFont.load_default(size)


def nice_length(metres: float) -> float:
    """The largest 1, 2 or 5 x 10^k not above `metres`."""
    if metres <= 0:
        return 0.0
    k = 10 ** math.floor(math.log10(metres))
    return max(m * k for m in (1, 2, 5) if m * k <= metres)


def distance_text(metres: float) -> str:
    return f"{metres / 1000:g} 公里" if metres >= 1000 else f"{metres:g} 米"


def _north_arrow(draw: ImageDraw.ImageDraw, x: float, y: float, u: float):
    """Centred at (x, y): a circle, a half-dark arrow pointing up and 北 under it."""
    r = 22 * u
    draw.ellipse((x - r, y - r, x + r, y + r), fill=(255, 255, 255), outline=INK, width=max(1, round(u)))
    top, bottom, half = (x, y - 15 * u), y + 9 * u, 8 * u
    draw.polygon([top, (x - half, bottom), (x, bottom - 5 * u)], fill=(255, 255, 255), outline=INK)
    draw.polygon([top, (x + half, bottom), (x, bottom - 5 * u)], fill=INK, outline=INK)
    f = font(round(11 * u))
    draw.text((x, y + r + 2 * u), "北 N", fill=INK, font=f, anchor="ma")


def _swatch(draw, kind: str, colour: str, box, u: float):
    x0, y0, x1, y1 = box
    if kind == "line":
        draw.line((x0, (y0 + y1) / 2, x1, (y0 + y1) / 2), fill=colour, width=max(2, round(3 * u)))
    elif kind == "point":
        r = (y1 - y0) / 3
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=colour, outline=(255, 255, 255))
    else:
        draw.rectangle(box, fill=colour, outline=(120, 120, 120), width=max(1, round(u / 2)))


def compose(
    map_png: bytes,
    *,
    title: str,
    legend: list[tuple[str, str, str]],
    metres_per_pixel: float,
    scale: float,
    when: dt.date | None = None,
    note: str = "",
) -> Image.Image:
    """The page as an RGB image. legend: (title, "polygon"|"line"|"point", "#rrggbb") bottom layer
    first (listed top first, as a map's legend reads); metres_per_pixel: ground metres per map pixel
    at the centre; scale: output pixels per screen pixel (sizes of text and furniture follow it)."""
    picture = Image.open(io.BytesIO(map_png)).convert("RGB")
    w, h = picture.size
    u = scale
    margin, title_h, gap = round(24 * u), round(44 * u), round(12 * u)
    row, col_w = round(22 * u), round(190 * u)
    right_w = round(280 * u)
    cols = max(1, (w - right_w) // col_w)
    rows = max(1, math.ceil(len(legend) / cols))
    footer_h = max(round(96 * u), round(24 * u) + rows * row)
    page = Image.new("RGB", (w + 2 * margin, margin + title_h + gap + h + gap + footer_h + margin), (255, 255, 255))
    draw = ImageDraw.Draw(page)

    draw.text((margin, margin), title, fill=INK, font=font(round(26 * u)), anchor="la")
    top = margin + title_h + gap
    page.paste(picture, (margin, top))
    draw.rectangle((margin - 1, top - 1, margin + w, top + h), outline=INK, width=max(1, round(u)))
    _north_arrow(draw, margin + w - 34 * u, top + 34 * u, u)

    # Legend: top layer first, in columns.
    y0 = top + h + gap
    small = font(round(12 * u))
    draw.text((margin, y0), "图例", fill=INK, font=font(round(13 * u)), anchor="la")
    for i, (name, kind, colour) in enumerate(reversed(legend)):
        c, r = divmod(i, rows)
        x, y = margin + c * col_w, y0 + round(20 * u) + r * row
        _swatch(draw, kind, colour, (x, y + 3 * u, x + 26 * u, y + row - 5 * u), u)
        draw.text((x + 34 * u, y + row / 2 - u), name[:14], fill=INK, font=small, anchor="lm")

    # Scale bar, representative fraction, date: the right block.
    x_right = margin + w
    bar_px = nice_length(metres_per_pixel * 0.6 * right_w) / metres_per_pixel if metres_per_pixel > 0 else 0
    length = bar_px * metres_per_pixel
    bx0, by = x_right - bar_px, y0 + round(22 * u)
    half = bx0 + bar_px / 2
    thick = round(6 * u)
    draw.rectangle((bx0, by, half, by + thick), fill=INK)
    draw.rectangle((half, by, x_right, by + thick), fill=(255, 255, 255), outline=INK)
    draw.text((bx0, by - 2 * u), "0", fill=INK, font=small, anchor="ms")
    draw.text((x_right, by - 2 * u), distance_text(length), fill=INK, font=small, anchor="rs")
    dpi = CSS_DPI * scale
    fraction = metres_per_pixel / (METRES_PER_INCH / dpi)
    lines = [
        f"比例尺 1:{_round_fraction(fraction):,}（按 {dpi:g} dpi）",
        f"制图日期 {(when or timezone.localdate()).isoformat()}",
        "坐标系 CGCS2000（EPSG:4490），Web 墨卡托显示",
    ]
    if note:
        lines.append(note)
    for i, text in enumerate(lines):
        draw.text((x_right, by + thick + 8 * u + i * 17 * u), text, fill=MUTED, font=font(round(11 * u)), anchor="ra")
    return page


def _round_fraction(value: float) -> int:
    if value < 100:
        return max(1, round(value))
    k = 10 ** (math.floor(math.log10(value)) - 1)
    return int(round(value / k) * k)


def encode(page: Image.Image, fmt: str, scale: float, title: str) -> bytes:
    out = io.BytesIO()
    dpi = CSS_DPI * scale
    if fmt == "pdf":
        # Pillow's own PDF writer: one page of the raster at its resolution (JPEG inside, quality 92).
        page.save(out, "PDF", resolution=dpi, quality=92, title=title, creator="GridCity")
    else:
        page.save(out, "PNG", dpi=(dpi, dpi), optimize=False, compress_level=6)
    return out.getvalue()

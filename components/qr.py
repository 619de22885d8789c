"""QR codes for component labels: they encode the public ID card address PUBLIC_BASE_URL/c/<code>."""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

import segno
from django.conf import settings

ERROR = "m"  # error correction level M: ~15% of the symbol may be damaged (weathered outdoor labels)
BORDER = 4  # the quiet zone the standard asks for, in modules


def card_url(code: str) -> str:
    return settings.PUBLIC_BASE_URL.rstrip("/") + "/c/" + code


def make_qr(code: str) -> segno.QRCode:
    return segno.make(card_url(code), error=ERROR, micro=False, boost_error=False)


def qr_png(code: str, scale: int = 8) -> bytes:
    out = io.BytesIO()
    make_qr(code).save(out, kind="png", scale=scale, border=BORDER)
    return out.getvalue()


def qr_svg(code: str, scale: int = 8, caption: bool = True) -> bytes:
    """A standalone SVG; with ``caption`` the ID is printed under the symbol for people to read."""
    qr = make_qr(code)
    out = io.BytesIO()
    qr.save(
        out,
        kind="svg",
        scale=scale,
        border=BORDER,
        xmldecl=False,
        svgclass=None,
        lineclass=None,
        title=f"{code}",
        dark="#000",
        light="#fff",
    )
    svg = out.getvalue().decode()
    if not caption:
        return svg.encode()
    width, height = qr.symbol_size(scale=scale, border=BORDER)
    font = max(10, int(scale * 2.2))
    extra = font + scale * 2
    total = height + extra
    # Grow the canvas and add the ID as text below the quiet zone.
    svg = svg.replace(f'height="{height}"', f'height="{total}" viewBox="0 0 {width} {total}"', 1)
    text = (
        f'<rect x="0" y="{height}" width="{width}" height="{extra}" fill="#fff"/>'
        f'<text x="{width / 2:g}" y="{height + font}" text-anchor="middle" '
        f'font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" font-size="{font}" '
        f'letter-spacing="1" fill="#000">{escape(code)}</text>'
    )
    svg = svg.replace("</svg>", text + "</svg>")
    return svg.encode()


def qr_svg_inline(code: str, scale: int = 6) -> str:
    """The SVG markup for embedding in the ID card page (no caption: the page shows the ID)."""
    return qr_svg(code, scale=scale, caption=False).decode()

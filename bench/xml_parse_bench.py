"""Parse time of layers.ogc.xmlsafe against the size of one token (a comment), beside the plain
iterparse it replaced: with expat < 2.6 the plain one grows quadratically, ours linearly.
Run: python -m bench.xml_parse_bench  (no database needed)."""

import io
import time

from defusedxml.ElementTree import iterparse


def _plain(data: bytes):
    for _ in iterparse(io.BytesIO(data), events=("start", "end"), forbid_dtd=True):
        pass


def main():
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gis_core.settings")
    django.setup()
    from layers.ogc import xmlsafe

    print(f"{'token KB':>9} {'xmlsafe ms':>11} {'plain iterparse ms':>19}")
    for kb in (64, 128, 256, 512, 1000):
        data = b"<a><!--" + b"x" * (kb * 1024) + b"--></a>"  # a comment: one token for expat
        t = time.perf_counter()
        xmlsafe.parse(data)
        ours = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        _plain(data)
        plain = (time.perf_counter() - t) * 1000
        print(f"{kb:>9} {ours:>11.1f} {plain:>19.1f}")


if __name__ == "__main__":
    main()

"""Image bytes for the photo tests, made with Pillow: plain images, one carrying EXIF GPS and an
orientation, polyglots, and things that only look like images by name."""

import io

from PIL import ExifTags, Image

# Where the test photo claims it was taken: 35°32'43.8"N 116°49'31.8"E.
GPS = {
    ExifTags.GPS.GPSLatitudeRef: "N",
    ExifTags.GPS.GPSLatitude: (35.0, 32.0, 43.8),
    ExifTags.GPS.GPSLongitudeRef: "E",
    ExifTags.GPS.GPSLongitude: (116.0, 49.0, 31.8),
}


def image(fmt: str = "JPEG", size=(40, 20), colour=(200, 30, 30), mode="RGB", **save) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, colour).save(out, fmt, **save)
    return out.getvalue()


def gps_exif(orientation: int = 6) -> bytes:
    """EXIF naming a camera, a GPS position and an orientation (6: turn 90° clockwise)."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "GridPhone"
    exif[ExifTags.Base.Orientation] = orientation
    exif.get_ifd(ExifTags.IFD.GPSInfo).update(GPS)
    return exif.tobytes()


def jpeg_with_gps(size=(40, 20), orientation: int = 6) -> bytes:
    return image("JPEG", size=size, exif=gps_exif(orientation))


HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>\n"


def jpeg_then_html() -> bytes:
    """A JPEG that is also an HTML page to a sniffing browser: the script rides after the image's end."""
    return image("JPEG") + HTML


def html_then_jpeg() -> bytes:
    return HTML + image("JPEG")


def exif_of(data: bytes) -> dict:
    with Image.open(io.BytesIO(data)) as img:
        exif = img.getexif()
        return {**dict(exif), **{("gps", k): v for k, v in exif.get_ifd(ExifTags.IFD.GPSInfo).items()}}


def size_of(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as img:
        return img.size

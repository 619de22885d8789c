"""Reading the accepted formats into plain column arrays plus (for vector formats) WKB geometries.

Nothing here knows about components: a reader returns strings per column, the geometries and the
declared CRS, or raises FileProblem naming what is wrong with the file."""

from __future__ import annotations

import csv
import functools
import io
import json
import re
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gis_core import arrow_strings
from gis_core.crs import CRSError, parse_crs

from . import archive
from .errors import FileProblem, no_paths

VECTOR_SUFFIXES = {".gpkg", ".geojson", ".json", ".shp"}
CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
_GB_NAMES = {"gbk", "gb2312", "gb18030", "cp936", "936", "euc-cn"}


@dataclass
class Source:
    columns: dict[str, np.ndarray]  # name as in the file -> object array of str ('' for empty)
    n: int
    wkb: np.ndarray | None = None  # vector formats: WKB per row (None where missing)
    crs: int | str | None = None  # the CRS the coordinates are in (parsed), if known
    kind: str = ""  # gpkg, shp, geojson, csv
    encoding: str | None = None
    warnings: list[str] = field(default_factory=list)
    row_errors: list[tuple[int, str, str]] = field(default_factory=list)
    tmpdir: tempfile.TemporaryDirectory | None = None

    def cleanup(self):
        for values in self.columns.values():
            arrow_strings.forget(values)
        if self.tmpdir is not None:
            self.tmpdir.cleanup()
            self.tmpdir = None


def _norm_encoding(name: str | None) -> str | None:
    if not name:
        return None
    name = name.strip().lower()
    if name in _GB_NAMES:
        return "gb18030"  # a superset of GBK and GB2312, so every GBK file decodes the same
    if name in ("utf8", "utf-8", "utf_8", "utf-8-sig"):
        return "utf-8"
    try:
        return io.TextIOWrapper(io.BytesIO(), encoding=name).encoding
    except LookupError:
        raise FileProblem(f"unknown encoding {name!r}: use utf-8 or gbk", field="encoding") from None


def _decode(data: bytes, encoding: str | None, what: str) -> tuple[str, str]:
    """Strict decoding, never mojibake: declared UTF-8 that is not UTF-8 is refused with the line;
    declared GBK that is really UTF-8 is refused too; undeclared is UTF-8 if it is, else GB18030."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
        if encoding not in (None, "utf-8"):
            raise FileProblem(
                f"{what} starts with a UTF-8 byte order mark but encoding {encoding} was given", field="encoding"
            )
        encoding = "utf-8"
    if encoding in (None, "utf-8"):
        try:
            return data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError as exc:
            if encoding == "utf-8":
                line = data.count(b"\n", 0, exc.start) + 1
                hint = " (it looks like GBK/GB18030: give encoding=gbk)" if _decodes(data, "gb18030") else ""
                raise FileProblem(
                    f"{what} is not valid UTF-8 at line {line}, byte {exc.start}{hint}", field="encoding"
                ) from None
        try:
            return data.decode("gb18030"), "gb18030"
        except UnicodeDecodeError:
            raise FileProblem(f"{what} is neither UTF-8 nor GBK/GB18030: give the encoding", field="encoding") from None
    if encoding == "gb18030" and not data.isascii() and _decodes(data, "utf-8"):
        raise FileProblem(
            f"{what} is UTF-8, not {encoding}: reading it as GBK would garble the Chinese text", field="encoding"
        )
    try:
        return data.decode(encoding), encoding
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise FileProblem(
            f"{what} is not valid {encoding} at line {line}, byte {exc.start}", field="encoding"
        ) from None


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
        return True
    except UnicodeDecodeError:
        return False


def as_text(values) -> np.ndarray:
    """A column from any reader -> object array of stripped strings, '' for null."""
    arr = np.asarray(values)
    if arr.dtype.kind == "O" or arr.dtype.kind == "U":
        return np.array(
            ["" if v is None else (v.strip() if isinstance(v, str) else _scalar(v)) for v in arr], dtype=object
        )
    if arr.dtype.kind == "b":
        return np.where(arr, "true", "false").astype(object)
    if arr.dtype.kind in "iu":
        return arr.astype(str).astype(object)
    if arr.dtype.kind == "f":
        return np.array(["" if np.isnan(v) else _scalar(v) for v in arr.tolist()], dtype=object)
    if arr.dtype.kind == "M":
        out = np.datetime_as_string(arr, unit="D").astype(object)
        out[np.isnat(arr)] = ""
        return out
    return np.array([_scalar(v) for v in arr.tolist()], dtype=object)


# Every character Python's str.strip() removes; Arrow's utf8_trim_whitespace may keep a few of them
# (e.g. the C0 separators), so rows that still start or end with one are stripped in Python.
_PY_SPACE = "".join(c for c in map(chr, range(0x110000)) if c.isspace())
_EDGE_SPACE_RE = "^[{0}]|[{0}]$".format("".join(f"\\x{{{ord(c):x}}}" for c in _PY_SPACE))


@functools.cache
def _arrow_trims_python_space() -> bool:
    """Whether this Arrow's utf8_trim_whitespace removes every character str.strip() does, from
    either end: then no trimmed cell can start or end with one, and the look for such cells (a
    regex over every row of every column) is spared."""
    import pyarrow as pa
    import pyarrow.compute as pc

    cells = [f"{c}x{c}" for c in _PY_SPACE]
    return pc.utf8_trim_whitespace(pa.array(cells, type=pa.string())).to_pylist() == ["x"] * len(cells)


def _arrow_columns(meta, table):
    """(geometry as an object array of WKB bytes / None, [field columns as Arrow arrays]) from read_arrow."""
    names = table.column_names
    geometry = None
    geom_name = meta.get("geometry_name") or "wkb_geometry"
    if meta.get("geometry_type") is not None and geom_name not in names and "wkb_geometry" in names:
        geom_name = "wkb_geometry"
    if geom_name in names:
        geometry = table.column(geom_name).to_numpy(zero_copy_only=False)
        if geometry.dtype != object:
            geometry = geometry.astype(object)
    fields = [table.column(str(name)) for name in meta["fields"]]
    return geometry, fields


def _arrow_text(values) -> np.ndarray:
    """An Arrow column -> what as_text() gives for the same column read by pyogrio.raw.read."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    typ = values.type
    if pa.types.is_dictionary(typ):
        values = values.dictionary_decode()
        typ = values.type
    if pa.types.is_string(typ) or pa.types.is_large_string(typ):
        trimmed = pc.utf8_trim_whitespace(values)
        if trimmed.null_count:
            trimmed = pc.fill_null(trimmed, "")
        out = trimmed.to_numpy(zero_copy_only=False)
        if out.dtype != object:
            out = out.astype(object)
        odd = None if _arrow_trims_python_space() else pc.match_substring_regex(trimmed, _EDGE_SPACE_RE)
        if odd is not None and pc.any(odd).as_py():
            for i in np.flatnonzero(odd.to_numpy(zero_copy_only=False)):
                out[i] = out[i].strip()
        elif trimmed.type == pa.string():
            arrow_strings.remember(out, trimmed)
        return out
    if pa.types.is_binary(typ) or pa.types.is_large_binary(typ):
        return as_text(values.to_numpy(zero_copy_only=False))
    if values.null_count and pa.types.is_integer(typ):
        # pyogrio.raw.read gives nullable integers as floats with NaN: the same text results.
        return as_text(values.cast(pa.float64()).to_numpy(zero_copy_only=False))
    return as_text(values.to_numpy(zero_copy_only=False))


def _scalar(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    if isinstance(v, bytes):
        return v.decode("utf-8", "strict")
    return str(v).strip()


# ---------------------------------------------------------------- CRS


def crs_of(declared: str | None, option, *, implicit_wgs84: bool = False, file_crs=None) -> int | str:
    """The CRS to read the coordinates in: the file's declaration (`file_crs` when the caller parsed it
    already, else GDAL's `declared`), the `srid` option, or a refusal."""
    parsed_option = None
    if option not in (None, ""):
        try:
            parsed_option = parse_crs(option)
        except CRSError as exc:
            raise FileProblem(str(exc), field="srid") from None
    parsed_file = file_crs
    if parsed_file is None and declared and not implicit_wgs84:
        parsed_file = _epsg_of(declared)
    if parsed_file is None and parsed_option is None:
        if implicit_wgs84:
            raise FileProblem(
                'the GeoJSON declares no "crs": its coordinates may be WGS84, GCJ-02 (Amap) or BD-09 '
                "(Baidu); give srid (e.g. 4326, GCJ02, BD09)",
                field="srid",
            )
        raise FileProblem(
            "the file declares no coordinate system: give srid (e.g. 4490, 4527, GCJ02, BD09)", field="srid"
        )
    if parsed_file is not None and parsed_option is not None and parsed_file != parsed_option:
        # GCJ-02 / BD-09 data is routinely labelled WGS84: the option may say what it really is.
        if not (parsed_file == 4326 and parsed_option in ("GCJ02", "BD09")):
            raise FileProblem(
                f"srid {parsed_option} contradicts the file's own CRS {_crs_text(parsed_file)}", field="srid"
            )
    return parsed_option if parsed_option is not None else parsed_file


def _crs_text(crs) -> str:
    return f"EPSG:{crs}" if isinstance(crs, int) else str(crs)


def _epsg_of(declared: str) -> int:
    from pyproj import CRS

    try:
        crs = CRS.from_user_input(declared)
    except Exception:  # noqa: BLE001 - pyproj raises several kinds
        raise FileProblem(f"the file's coordinate system cannot be read: {declared[:120]}", field="srid") from None
    epsg = crs.to_epsg(min_confidence=70)
    if epsg is None:
        raise FileProblem(f"the file's coordinate system {crs.name!r} is not an EPSG system: give srid", field="srid")
    try:
        return parse_crs(epsg)
    except CRSError as exc:
        raise FileProblem(str(exc), field="srid") from None


# ---------------------------------------------------------------- entry point


def read_source(path, *, srid=None, encoding=None) -> Source:
    path = Path(path)
    if not path.exists():
        raise FileProblem(f"no such file: {path.name}", field="file")
    encoding = _norm_encoding(encoding)
    suffix = path.suffix.lower()
    if suffix == ".zip" or (suffix not in VECTOR_SUFFIXES | CSV_SUFFIXES and zipfile.is_zipfile(path)):
        return _read_zip(path, srid, encoding)
    if suffix in CSV_SUFFIXES:
        return read_csv(path, srid=srid, encoding=encoding)
    if suffix in VECTOR_SUFFIXES:
        return read_vector(path, srid=srid, encoding=encoding)
    raise FileProblem(
        f"unsupported file type {suffix or path.name!r}: use .gpkg, .zip (Shapefile), .geojson or .csv", field="file"
    )


def _read_zip(path: Path, srid, encoding) -> Source:
    if not zipfile.is_zipfile(path):
        raise FileProblem(f"{path.name} is not a readable zip archive (broken or truncated)", field="file")
    tmp = tempfile.TemporaryDirectory(prefix="gridcity-import-")
    try:
        with zipfile.ZipFile(path) as zf:
            members = archive.wanted_members(zf)
            archive.extract(zf, members, Path(tmp.name))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, NotImplementedError, RuntimeError) as exc:
        # CRC and size mismatches (a directory that lies) end here too. The reason names no path.
        tmp.cleanup()
        raise FileProblem(f"the zip archive is damaged or unsupported: {no_paths(exc)}", field="file") from None
    except FileProblem:
        tmp.cleanup()
        raise
    root = Path(tmp.name)
    shps = sorted(root.rglob("*.shp")) + sorted(root.rglob("*.SHP"))
    others = [p for p in root.rglob("*") if p.suffix.lower() in {".gpkg", ".geojson", ".json", ".csv"}]
    try:
        if len(shps) == 1:
            shp = shps[0]
            for ext in (".dbf", ".shx"):
                if not any(shp.with_suffix(e).exists() for e in (ext, ext.upper())):
                    raise FileProblem(f"the Shapefile {shp.name} in the zip has no {ext} part", field="file")
            source = read_vector(shp, srid=srid, encoding=encoding)
        elif len(shps) > 1:
            raise FileProblem(f"the zip holds {len(shps)} Shapefiles: import one at a time", field="file")
        elif len(others) == 1:
            source = read_source(others[0], srid=srid, encoding=encoding)
        else:
            raise FileProblem("the zip holds no Shapefile (.shp with .dbf and .shx)", field="file")
    except Exception:
        tmp.cleanup()
        raise
    if source.tmpdir is not None:  # cannot happen (no zip inside the zip is read), but never leak one
        source.tmpdir.cleanup()
    source.tmpdir = tmp
    return source


def _dbf_encoding(shp: Path, encoding: str | None) -> str | None:
    """A Shapefile's encoding: the option, else its .cpg, else sniffed from the .dbf records."""
    if encoding:
        dbf = _sibling(shp, ".dbf")
        if dbf is not None:
            _decode(_dbf_records(dbf), encoding, f"{dbf.name}")  # refuses a wrong declaration
        return encoding
    cpg = _sibling(shp, ".cpg")
    if cpg is not None:
        declared = cpg.read_text(errors="replace").strip()
        try:
            return _norm_encoding(declared)
        except FileProblem:
            raise FileProblem(
                f"the .cpg declares an unknown encoding {declared!r}: give encoding", field="encoding"
            ) from None
    dbf = _sibling(shp, ".dbf")
    if dbf is None:
        return None
    _, found = _decode(_dbf_records(dbf), None, dbf.name)
    return found


def _sibling(path: Path, ext: str) -> Path | None:
    for e in (ext, ext.upper()):
        p = path.with_suffix(e)
        if p.exists():
            return p
    return None


def _dbf_records(dbf: Path) -> bytes:
    data = dbf.read_bytes()
    if len(data) < 32:
        raise FileProblem(f"{dbf.name} is truncated", field="file")
    header_len = int.from_bytes(data[8:10], "little")
    return data[header_len:].rstrip(b"\x1a")


def _gpkg_layer(path: Path) -> str | int:
    """A GeoPackage may hold several layers: take the one named `components` (what our export and the
    demo city write), else the first."""
    import pyogrio

    try:
        names = [name for name, _ in pyogrio.list_layers(path)]
    except Exception:  # noqa: BLE001 - an unreadable file is reported by the read itself
        return 0
    return "components" if "components" in names else 0


def _gdal_read(path: Path, kind: str, read_kwargs: dict, *, shown: str):
    """(meta, geometry, field columns, whether they are Arrow arrays) read by GDAL, or a FileProblem
    naming the file as the client knows it (GDAL's own message names the server's path)."""
    import pyogrio

    if kind == "gpkg":
        read_kwargs["layer"] = _gpkg_layer(path)
    # GeoPackage and GeoJSON text is UTF-8 by definition (a GeoJSON in another encoding was rewritten
    # by the caller): read them through GDAL's columnar Arrow stream. Shapefiles keep the per-feature
    # reader, which decodes their declared dBase encoding.
    use_arrow = kind in ("gpkg", "geojson")
    try:
        if use_arrow:
            meta, table = pyogrio.raw.read_arrow(path, **read_kwargs)
            geometry, field_data = _arrow_columns(meta, table)
        else:
            meta, _fids, geometry, field_data = pyogrio.raw.read(path, **read_kwargs)
    except Exception as exc:  # noqa: BLE001 - GDAL errors come in many kinds
        reason = no_paths(exc, replace={str(path): shown, str(path.resolve()): shown})
        raise FileProblem(f"{shown} cannot be read: {reason}", field="file") from None
    return meta, geometry, field_data, use_arrow


_CRS_MEMBER = re.compile(r'"crs"\s*:\s*(?=[{n])')
_CRS84 = re.compile(
    r"^(?:urn:ogc:def:crs:OGC:(?:1\.3)?:CRS84|OGC:CRS84|CRS84|"
    r"https?://www\.opengis\.net/def/crs/OGC/1\.3/CRS84)$",
    re.I,
)
_EPSG_NAME = re.compile(
    r"^(?:EPSG:(?:[0-9.]*:)?|urn:ogc:def:crs:EPSG:(?:[0-9.]*):|"
    r"https?://www\.opengis\.net/def/crs/EPSG/[0-9.]+/)([0-9]{1,9})$",
    re.I,
)


def geojson_crs(text: str) -> str | None:
    """The coordinate system a GeoJSON declares (its "crs" members, 2008 form), as text, or None when it
    declares none. Every "crs" object in the text is read, so a declaration anywhere is seen; two that
    differ, or one of a kind not understood, are refused."""
    found = set()
    decoder = json.JSONDecoder()
    for m in _CRS_MEMBER.finditer(text):
        try:
            member, _ = decoder.raw_decode(text, m.end())
        except ValueError:
            continue  # not JSON at this place: "crs" inside a string; GDAL reports a broken file itself
        if member is None:
            continue  # "crs": null declares none
        if not isinstance(member, dict):
            continue
        props = member.get("properties") if isinstance(member.get("properties"), dict) else {}
        kind = str(member.get("type", "")).lower()
        if kind == "name" and isinstance(props.get("name"), str):
            found.add(props["name"].strip())
        elif kind == "epsg" and str(props.get("code", "")).isascii() and str(props.get("code", "")).isdigit():
            found.add(f"EPSG:{props['code']}")
        else:
            raise FileProblem(
                f'the GeoJSON\'s "crs" member {json.dumps(member, ensure_ascii=False)[:120]} is not '
                'understood: name the CRS as {"type": "name", "properties": {"name": "EPSG:4490"}}',
                field="srid",
            )
    if len(found) > 1:
        raise FileProblem(
            f"the GeoJSON declares several coordinate systems ({', '.join(sorted(found))[:200]})", field="srid"
        )
    return found.pop() if found else None


def _geojson_crs_code(name: str) -> int | str:
    """A GeoJSON's CRS name -> an accepted CRS, or a refusal naming it (never a silent WGS84)."""
    if _CRS84.match(name):
        return 4326
    m = _EPSG_NAME.match(name)
    try:
        return parse_crs(int(m.group(1)) if m else name)
    except CRSError as exc:
        raise FileProblem(
            f"the GeoJSON declares the coordinate system {name[:80]!r}, which is unknown or not "
            f'accepted ({exc}): fix its "crs" member, or remove it and give srid',
            field="srid",
        ) from None


def read_vector(path: Path, *, srid=None, encoding=None) -> Source:
    suffix = path.suffix.lower()
    kind = {".gpkg": "gpkg", ".shp": "shp"}.get(suffix, "geojson")
    implicit = False
    file_crs = None
    read_kwargs = {}
    copy = None
    if kind == "shp":
        enc = _dbf_encoding(path, encoding)
        if enc:
            read_kwargs["encoding"] = enc
        encoding = enc
    elif kind == "geojson":
        data = path.read_bytes()
        text, found = _decode(data, encoding, path.name)
        # GDAL reads a CRS it does not know as WGS84: the declaration is read here, before GDAL sees it.
        declared = geojson_crs(text)
        implicit = declared is None
        file_crs = None if declared is None else _geojson_crs_code(declared)
        if found != "utf-8" or data.startswith(b"\xef\xbb\xbf"):
            # GeoJSON is UTF-8 by definition: hand GDAL a UTF-8 copy (removed once read).
            tmp = tempfile.NamedTemporaryFile(suffix=".geojson", prefix="gridcity-import-", delete=False)
            tmp.write(text.encode("utf-8"))
            tmp.close()
            copy = Path(tmp.name)
        encoding = found
        del data, text
    try:
        meta, geometry, field_data, use_arrow = _gdal_read(copy or path, kind, read_kwargs, shown=path.name)
    finally:
        if copy is not None:
            copy.unlink(missing_ok=True)
    crs = crs_of(meta.get("crs"), srid, implicit_wgs84=implicit, file_crs=file_crs)
    columns = {}
    try:
        for name, values in zip(meta["fields"], field_data):
            try:
                columns[str(name)] = _arrow_text(values) if use_arrow else as_text(values)
            except UnicodeDecodeError:
                raise FileProblem(
                    f"column {name} holds bytes that are not text in the declared encoding", field=name
                ) from None
    except BaseException:
        for values in columns.values():  # no Source to clean up after: let go of their Arrow twins here
            arrow_strings.forget(values)
        raise
    n = len(geometry) if geometry is not None else (len(field_data[0]) if field_data else 0)
    wkb = geometry if geometry is not None else np.full(n, None, dtype=object)
    return Source(columns=columns, n=n, wkb=wkb, crs=crs, kind=kind, encoding=encoding)


def _csv_rows(text: str, delimiter: str):
    """(header, data rows padded to the header's width, [(row, field, reason)]). Rows are numbered
    from 1 under the header; blank lines are no rows."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise FileProblem("the CSV file is empty", field="file") from None
    except csv.Error as exc:
        raise FileProblem(f"the CSV header cannot be read: {exc}", field="file") from None
    header = [h.strip() for h in header]
    width = len(header)
    rows = []
    row_errors = []
    i = 0
    while True:
        try:
            rec = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            # Where the reader stopped is unsure after this: the file is refused here, naming the row.
            raise FileProblem(f"cannot be read as CSV: {exc}", field="file", row=i + 1) from None
        if not rec or (len(rec) == 1 and not rec[0].strip() and width > 1):
            continue  # a blank line is no data row
        i += 1
        if len(rec) != width:
            row_errors.append((i, "row", f"has {len(rec)} values, the header has {width} columns"))
            rec = (rec + [""] * width)[:width]
        rows.append(rec)
    return header, rows, row_errors


def read_csv(path: Path, *, srid=None, encoding=None) -> Source:
    text, found = _decode(Path(path).read_bytes(), encoding, Path(path).name)
    sample = text[:8192]
    delimiter = "\t" if Path(path).suffix.lower() == ".tsv" or (sample.count("\t") > sample.count(",")) else ","
    # The csv module refuses a cell over 131,072 characters with an error that names no row: lift its
    # limit to the text's own size (already in memory) and let prepare() refuse long cells by row and field.
    old_limit = csv.field_size_limit()
    csv.field_size_limit(max(old_limit, len(text) + 1))
    try:
        header, rows, row_errors = _csv_rows(text, delimiter)
    finally:
        csv.field_size_limit(old_limit)
    n = len(rows)
    columns = {}
    if n:
        for name, values in zip(header, zip(*rows)):
            columns[name] = np.array([v.strip() for v in values], dtype=object)
    else:
        columns = {name: np.array([], dtype=object) for name in header}
    if len(set(header)) != len(header):
        dup = sorted({h for h in header if header.count(h) > 1})
        raise FileProblem(f"the header repeats column(s) {', '.join(dup)}", field=dup[0])
    crs = None
    if srid not in (None, ""):
        try:
            crs = parse_crs(srid)
        except CRSError as exc:
            raise FileProblem(str(exc), field="srid") from None
    return Source(columns=columns, n=n, crs=crs, kind="csv", encoding=found, row_errors=row_errors)

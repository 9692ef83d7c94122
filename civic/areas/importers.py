"""Importers for ONS boundary files (GeoJSON) and Census 2021 tables (CSV).

Each import runs in one transaction: the whole file is read and checked first, and the first
problem stops it with a message that names the feature or line and what is wrong; nothing is
written unless the whole file is good. Re-importing a file updates the areas it names.

Census counts are perturbed by ONS for disclosure control, so totals from different tables
disagree by a few people; the importers accept that and report the largest difference.
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import delete, select

from civic.areas.models import Area, AreaBaseline, AreaLevel
from civic.core.audit import EventTag, record_event
from civic.extensions import db

GSS_CODE = re.compile(r"^[EWSN]\d{8}$")
LEVEL_PREFIXES = {
    AreaLevel.WARD: {"E05", "W05", "S13", "N08"},
    AreaLevel.DISTRICT: {"E06", "E07", "E08", "E09", "W06", "S12", "N09"},
    AreaLevel.AUTHORITY: {"E47", "E10", "E11", "E06", "E07", "E08", "E09", "W06", "S12", "N09"},
}
PARENT_LEVEL = {AreaLevel.WARD: AreaLevel.DISTRICT, AreaLevel.DISTRICT: AreaLevel.AUTHORITY}
COORDINATE_PLACES = 5  # about a metre: plenty for a ward map, and a third of the size


class ImportProblem(Exception):
    """A file that cannot be imported; the message says where and what."""


# --- Boundaries -----------------------------------------------------------------------------


@dataclass
class BoundaryOptions:
    level: AreaLevel
    code_property: str
    name_property: str
    parent_property: str | None = None
    parent_code: str | None = None
    parent_lookup: Path | None = None
    lookup_columns: tuple[str, str] | None = None


@dataclass
class BoundaryResult:
    created: int = 0
    updated: int = 0
    by_parent: dict[str, int] = field(default_factory=dict)


def _round_coordinates(coords):
    if isinstance(coords, list | tuple) and coords and isinstance(coords[0], int | float):
        return [round(float(c), COORDINATE_PLACES) for c in coords[:2]]
    return [_round_coordinates(c) for c in coords]


def _check_position(pos, where: str) -> None:
    if not isinstance(pos, list | tuple) or len(pos) < 2 or not all(isinstance(c, int | float) for c in pos[:2]):
        raise ImportProblem(f"{where}: a coordinate is not a [longitude, latitude] pair")
    lon, lat = pos[0], pos[1]
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise ImportProblem(f"{where}: a coordinate is not a number")
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise ImportProblem(
            f"{where}: coordinate [{lon}, {lat}] is not longitude/latitude; "
            "export the boundaries in WGS84 (EPSG:4326), not British National Grid"
        )


def _check_polygon(rings, where: str) -> None:
    if not isinstance(rings, list) or not rings:
        raise ImportProblem(f"{where}: a polygon has no rings")
    for ring in rings:
        if not isinstance(ring, list) or len(ring) < 4:
            raise ImportProblem(f"{where}: a polygon ring has fewer than 4 positions")
        for pos in ring:
            _check_position(pos, where)
        if list(ring[0][:2]) != list(ring[-1][:2]):
            raise ImportProblem(f"{where}: a polygon ring is not closed (its first and last positions differ)")


def _check_geometry(geometry, where: str) -> dict:
    if not isinstance(geometry, dict):
        raise ImportProblem(f"{where}: has no geometry")
    kind = geometry.get("type")
    coords = geometry.get("coordinates")
    if kind == "Polygon":
        _check_polygon(coords, where)
    elif kind == "MultiPolygon":
        if not isinstance(coords, list) or not coords:
            raise ImportProblem(f"{where}: a MultiPolygon has no polygons")
        for polygon in coords:
            _check_polygon(polygon, where)
    else:
        raise ImportProblem(f"{where}: geometry is {kind!r}; a boundary must be a Polygon or MultiPolygon")
    return {"type": kind, "coordinates": _round_coordinates(coords)}


def _check_code(code, level: AreaLevel, where: str) -> str:
    if not isinstance(code, str) or not GSS_CODE.match(code.strip()):
        raise ImportProblem(f"{where}: {code!r} is not an ONS GSS code (like E05000650)")
    code = code.strip()
    if code[:3] not in LEVEL_PREFIXES[level]:
        raise ImportProblem(
            f"{where}: {code} is not a {level.value} code (expected one starting {', '.join(sorted(LEVEL_PREFIXES[level]))})"
        )
    return code


def _read_json(path: Path) -> dict:
    try:
        with path.open(encoding="utf-8-sig") as fh:
            return json.load(fh)
    except FileNotFoundError as exc:
        raise ImportProblem(f"{path}: no such file") from exc
    except UnicodeDecodeError as exc:
        raise ImportProblem(f"{path}: not UTF-8 text") from exc
    except json.JSONDecodeError as exc:
        raise ImportProblem(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from exc


def _read_lookup(path: Path, columns: tuple[str, str]) -> dict[str, str]:
    child_col, parent_col = columns
    mapping: dict[str, str] = {}
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in columns if c not in (reader.fieldnames or [])]
            if missing:
                raise ImportProblem(f"{path}: no column {', '.join(missing)} (columns are {', '.join(reader.fieldnames or [])})")
            for line, row in enumerate(reader, start=2):
                child, parent = (row[child_col] or "").strip(), (row[parent_col] or "").strip()
                if not child or not parent:
                    raise ImportProblem(f"{path} line {line}: empty {child_col} or {parent_col}")
                mapping[child] = parent
    except FileNotFoundError as exc:
        raise ImportProblem(f"{path}: no such file") from exc
    return mapping


def _check_crs(data: dict, path: Path) -> None:
    crs = data.get("crs")
    if not crs:
        return
    name = str((crs.get("properties") or {}).get("name", ""))
    if name and not any(ok in name for ok in ("CRS84", "4326")):
        raise ImportProblem(f"{path}: coordinates are in {name}; export the boundaries in WGS84 (EPSG:4326)")


def import_boundaries(path: Path, options: BoundaryOptions) -> BoundaryResult:
    """Create or update one level of areas from a GeoJSON FeatureCollection."""
    data = _read_json(path)
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection" or not isinstance(data.get("features"), list):
        raise ImportProblem(f"{path}: not a GeoJSON FeatureCollection")
    _check_crs(data, path)
    if not data["features"]:
        raise ImportProblem(f"{path}: the FeatureCollection has no features")
    level = options.level
    lookup = _read_lookup(options.parent_lookup, options.lookup_columns) if options.parent_lookup else None

    existing = {a.gss_code: a for a in db.session.execute(select(Area)).scalars()}
    parsed: list[tuple[str, str, dict, str | None]] = []
    seen: set[str] = set()
    for index, feature in enumerate(data["features"], start=1):
        where = f"feature {index}"
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            raise ImportProblem(f"{where}: not a GeoJSON Feature")
        props = feature.get("properties") or {}
        if options.code_property not in props:
            raise ImportProblem(
                f"{where}: has no property {options.code_property!r} (it has {', '.join(sorted(props)) or 'none'})"
            )
        code = _check_code(props.get(options.code_property), level, where)
        where = f"feature {index} ({code})"
        if code in seen:
            raise ImportProblem(f"{where}: the code appears more than once in the file")
        seen.add(code)
        name = props.get(options.name_property)
        if not isinstance(name, str) or not name.strip():
            raise ImportProblem(f"{where}: property {options.name_property!r} is missing or empty")
        name = name.strip()
        geometry = _check_geometry(feature.get("geometry"), f"{where} {name}")
        parent_code = None
        if options.parent_code:
            parent_code = options.parent_code
        elif options.parent_property:
            parent_code = props.get(options.parent_property)
            if not parent_code:
                raise ImportProblem(f"{where} {name}: property {options.parent_property!r} is missing or empty")
        elif lookup is not None:
            parent_code = lookup.get(code)
            if not parent_code:
                raise ImportProblem(f"{where} {name}: not in the lookup file {options.parent_lookup}")
        if parent_code is not None:
            parent = existing.get(str(parent_code).strip())
            if parent is None:
                raise ImportProblem(f"{where} {name}: parent {parent_code} is not a known area; import the level above first")
            expected = PARENT_LEVEL.get(level)
            if expected and parent.level != expected:
                raise ImportProblem(f"{where} {name}: parent {parent_code} is a {parent.level}, not a {expected.value}")
            parent_code = parent.gss_code
        elif level != AreaLevel.AUTHORITY:
            raise ImportProblem(
                f"{where} {name}: a {level.value} needs a parent (--parent-property, --parent-code or --parent-lookup)"
            )
        parsed.append((code, name, geometry, parent_code))

    result = BoundaryResult()
    for code, name, geometry, parent_code in parsed:
        area = existing.get(code)
        if area is None:
            area = Area(gss_code=code, level=level)
            db.session.add(area)
            existing[code] = area
            result.created += 1
        else:
            if area.level != level:
                db.session.rollback()
                raise ImportProblem(f"{code} {name}: already imported as a {area.level}, not a {level.value}")
            result.updated += 1
        area.name = name
        area.boundary = json.dumps(geometry, separators=(",", ":"))
        area.parent = existing[parent_code] if parent_code else None
        if parent_code:
            result.by_parent[parent_code] = result.by_parent.get(parent_code, 0) + 1
    db.session.flush()
    record_event(
        EventTag.AREAS_BOUNDARIES_IMPORT,
        subject_type="file",
        subject_id=path.name[:64],
        details={"level": str(level), "created": result.created, "updated": result.updated},
    )
    db.session.commit()
    return result


# --- Census tables --------------------------------------------------------------------------

ETHNIC_GROUPS = {
    "asian, asian british or asian welsh": "asian",
    "black, black british, black welsh, caribbean or african": "black",
    "mixed or multiple ethnic groups": "mixed",
    "white": "white",
    "other ethnic group": "other",
}
ADULT_AGE = 16
AGE_BANDS = (
    (16, 24, "16-24"),
    (25, 34, "25-34"),
    (35, 44, "35-44"),
    (45, 54, "45-54"),
    (55, 64, "55-64"),
    (65, 74, "65-74"),
    (75, 200, "75+"),
)


def age_band_for(age: int) -> str | None:
    for low, high, band in AGE_BANDS:
        if low <= age <= high:
            return band
    return None


_AGE_TEXT = re.compile(r"^Aged (?:(under 1) year|(\d+) years?(?: and over)?)$")


def parse_age(text: str) -> int | None:
    """'Aged under 1 year' -> 0, 'Aged 16 years' -> 16, 'Aged 90 years and over' -> 90, '90+' -> 90."""
    text = (text or "").strip()
    if text.endswith("+") and text[:-1].isdigit():
        return int(text[:-1])
    if text.isdigit():
        return int(text)
    match = _AGE_TEXT.match(text)
    if not match:
        return None
    return 0 if match.group(1) else int(match.group(2))


def ethnic_group_for(text: str) -> str | None:
    head = (text or "").split(":")[0].strip().lower()
    return ETHNIC_GROUPS.get(head)


def disability_for(text: str) -> str | None:
    lowered = (text or "").strip().lower()
    if lowered.startswith("disabled under the equality act"):
        return "disabled"
    if lowered.startswith("not disabled"):
        return "not_disabled"
    return None


SEXES = {"female": "female", "females": "female", "male": "male", "males": "male"}
ALL_PERSONS = {"all persons", "persons", "all"}


@dataclass
class CensusResult:
    table: str
    areas: int = 0
    rows: int = 0
    largest_total_difference: int = 0
    dimensions: set[str] = field(default_factory=set)


def _detect_table(columns: list[str]) -> str:
    cols = set(columns)
    if {"area_code", "value", "ethnic_group"} <= cols:
        return "ethnic_group"
    if {"area_code", "value", "disability_category"} <= cols:
        return "disability"
    if {"area_code", "value", "age", "sex"} <= cols:
        return "age_by_sex"
    if {"area_code", "sex", "all_ages", "0", "90+"} <= cols:
        return "age_by_sex_wide"
    if {"area_code", "value", "indicator"} <= cols and not ({"age", "sex"} & cols):
        return "sex"
    raise ImportProblem(
        "this is not a Census 2021 table the importer knows: expected the long format with "
        "area_code and value columns (TS008 sex, TS009 age by sex, TS021 ethnic group, TS038 "
        f"disability) or the wide mid-year estimates format; the columns are {', '.join(columns)}"
    )


def _count(value: str, line: int) -> int:
    try:
        number = float((value or "").replace(",", "").strip())
    except ValueError as exc:
        raise ImportProblem(f"line {line}: value {value!r} is not a number") from exc
    if number < 0 or not number.is_integer():
        raise ImportProblem(f"line {line}: value {value!r} is not a whole number of people")
    return int(number)


def import_census(path: Path, source: str | None = None) -> CensusResult:
    """Load population baselines for areas already imported; replaces what was there."""
    try:
        fh = path.open(newline="", encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise ImportProblem(f"{path}: no such file") from exc
    with fh:
        reader = csv.DictReader(fh)
        columns = reader.fieldnames or []
        if not columns:
            raise ImportProblem(f"{path}: the file is empty")
        table = _detect_table(columns)
        areas = {a.gss_code: a for a in db.session.execute(select(Area)).scalars()}
        counts: dict[int, dict[tuple[str, str], int]] = defaultdict(lambda: defaultdict(int))
        totals: dict[int, int] = {}
        adults: dict[int, int] = defaultdict(int)
        result = CensusResult(table=table)
        try:
            rows = list(enumerate(reader, start=2))
        except (csv.Error, UnicodeDecodeError) as exc:
            raise ImportProblem(f"{path}: cannot be read as CSV ({exc})") from exc
        if not rows:
            raise ImportProblem(f"{path}: has a header but no rows")
        for line, row in rows:
            if None in row or any(v is None for v in row.values()):
                raise ImportProblem(
                    f"line {line}: has {len([v for v in row.values() if v is not None])} cells, the header has {len(columns)}"
                )
            code = (row.get("area_code") or "").strip()
            area = areas.get(code)
            if area is None:
                raise ImportProblem(f"line {line}: area {code or '(blank)'} is not in the geography; import its boundaries first")
            result.rows += 1
            _read_row(table, row, line, area.id, counts, totals, adults)
    if not counts and not totals:
        raise ImportProblem(f"{path}: no counts found")
    source = source or f"Census 2021 ({table.replace('_', ' ')}), ONS, OGL v3.0: {path.name}"[:120]
    for area_id, cells in counts.items():
        dims = {dim for dim, _ in cells}
        result.dimensions |= dims
        db.session.execute(delete(AreaBaseline).where(AreaBaseline.area_id == area_id, AreaBaseline.dimension.in_(dims)))
        for (dim, category), count in sorted(cells.items()):
            db.session.add(AreaBaseline(area_id=area_id, dimension=dim, category=category, count=count, source=source))
        # ONS perturbs each table separately, so the categories need not add up to the total.
        total = totals.get(area_id, db.session.get(Area, area_id).population)
        for dim in dims & {"sex", "ethnic_group", "disability"}:
            if total is not None:
                summed = sum(c for (d, _), c in cells.items() if d == dim)
                result.largest_total_difference = max(result.largest_total_difference, abs(summed - total))
    for area_id, total in totals.items():
        db.session.get(Area, area_id).population = total
    for area_id, adult_count in adults.items():
        db.session.get(Area, area_id).adult_population = adult_count
    result.areas = len(set(counts) | set(totals))
    db.session.flush()
    record_event(
        EventTag.AREAS_CENSUS_IMPORT,
        subject_type="file",
        subject_id=path.name[:64],
        details={"table": table, "areas": result.areas, "rows": result.rows},
    )
    db.session.commit()
    return result


def _read_row(table, row, line, area_id, counts, totals, adults) -> None:
    if table == "sex":
        indicator = row["indicator"].strip().lower()
        value = _count(row["value"], line)
        if indicator in ALL_PERSONS:
            totals[area_id] = value
        elif indicator in SEXES:
            counts[area_id][("sex", SEXES[indicator])] += value
        else:
            raise ImportProblem(f"line {line}: sex {row['indicator']!r} is not All persons, Female or Male")
    elif table == "ethnic_group":
        group = ethnic_group_for(row["ethnic_group"])
        if group is None:
            raise ImportProblem(f"line {line}: ethnic group {row['ethnic_group']!r} is not a Census 2021 category")
        counts[area_id][("ethnic_group", group)] += _count(row["value"], line)
    elif table == "disability":
        category = disability_for(row["disability_category"])
        if category is None:
            raise ImportProblem(f"line {line}: disability category {row['disability_category']!r} is not a Census 2021 category")
        counts[area_id][("disability", category)] += _count(row["value"], line)
    elif table == "age_by_sex":
        age = parse_age(row["age"])
        if age is None:
            raise ImportProblem(f"line {line}: age {row['age']!r} is not like 'Aged 16 years'")
        sex = row["sex"].strip().lower()
        if sex not in ALL_PERSONS and sex not in SEXES:
            raise ImportProblem(f"line {line}: sex {row['sex']!r} is not All persons, Female or Male")
        value = _count(row["value"], line)
        if sex in ALL_PERSONS:
            totals[area_id] = totals.get(area_id, 0) + value
            band = age_band_for(age)
            if band:
                counts[area_id][("age_band", band)] += value
                adults[area_id] += value
    elif table == "age_by_sex_wide":
        sex = row["sex"].strip().lower()
        if sex not in ALL_PERSONS and sex not in SEXES:
            raise ImportProblem(f"line {line}: sex {row['sex']!r} is not Persons, Females or Males")
        if sex in SEXES:
            counts[area_id][("sex", SEXES[sex])] += _count(row["all_ages"], line)
            return
        totals[area_id] = _count(row["all_ages"], line)
        for column, raw in row.items():
            age = parse_age(column) if column else None
            if age is None:
                continue
            band = age_band_for(age)
            if band:
                value = _count(raw, line)
                counts[area_id][("age_band", band)] += value
                adults[area_id] += value

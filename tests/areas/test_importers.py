"""Importers against the real ONS files for Greater Manchester (read in place, never copied)."""

import json
import os
from pathlib import Path

import pytest
from sqlalchemy import func, select

from civic.areas import importers
from civic.areas.importers import BoundaryOptions, ImportProblem, import_boundaries, import_census
from civic.areas.models import Area, AreaBaseline, AreaLevel
from civic.extensions import db

ROOT = Path(__file__).resolve().parents[2]
CANDIDATES = [os.environ.get("CIVIC_REAL_DATA"), ROOT.parent / "shared" / "data" / "real", "/work/shared/data/real"]
REAL = next((Path(p) for p in CANDIDATES if p and Path(p).is_dir()), None)
needs_real = pytest.mark.skipif(REAL is None, reason="the real ONS data folder (../shared/data/real) is not on this machine")

GM_WARDS_PER_BOROUGH = {
    "Bolton": 20,
    "Bury": 17,
    "Manchester": 32,
    "Oldham": 20,
    "Rochdale": 20,
    "Salford": 20,
    "Stockport": 21,
    "Tameside": 19,
    "Trafford": 21,
    "Wigan": 25,
}


def count(level: str) -> int:
    return db.session.scalar(select(func.count()).select_from(Area).where(Area.level == level))


def import_gm_authority_and_boroughs():
    import_boundaries(
        REAL / "boundaries/gm_combined_authority_dec2023_bsc.geojson",
        BoundaryOptions(AreaLevel.AUTHORITY, "area_code", "area_name"),
    )
    import_boundaries(
        REAL / "boundaries/gm_lad_dec2023_bsc.geojson",
        BoundaryOptions(AreaLevel.DISTRICT, "area_code", "area_name", parent_code="E47000001"),
    )


@needs_real
class TestRealBoundaries:
    def test_greater_manchester_2023_wards(self, app):
        import_gm_authority_and_boroughs()
        result = import_boundaries(
            REAL / "boundaries/gm_wards_may2023_bgc.geojson",
            BoundaryOptions(AreaLevel.WARD, "area_code", "area_name", parent_property="local_authority_area_code"),
        )
        assert result.created == 215 and len(result.by_parent) == 10
        assert (count("authority"), count("district"), count("ward")) == (1, 10, 215)
        boroughs = db.session.scalars(select(Area).where(Area.level == AreaLevel.DISTRICT)).all()
        assert {b.name: len(b.children) for b in boroughs} == GM_WARDS_PER_BOROUGH
        assert all(b.parent.gss_code == "E47000001" for b in boroughs)
        ward = db.session.scalar(select(Area).where(Area.gss_code == "E05015239"))
        assert ward.name == "Altrincham" and ward.parent.name == "Trafford"
        geometry = json.loads(ward.boundary)
        assert geometry["type"] == "Polygon"
        lon, lat = geometry["coordinates"][0][0]
        assert -2.8 < lon < -1.9 and 53.3 < lat < 53.7
        assert len(str(lon).split(".")[1]) <= 5  # rounded

    def test_2022_wards_with_a_lookup_file_and_reimport_updates(self, app):
        import_gm_authority_and_boroughs()
        options = BoundaryOptions(
            AreaLevel.WARD,
            "area_code",
            "area_name",
            parent_lookup=REAL / "boundaries/gm_wards_may2022_to_lad22_lookup.csv",
            lookup_columns=("wd22cd", "lad22cd"),
        )
        first = import_boundaries(REAL / "boundaries/gm_wards_may2022_bgc.geojson", options)
        again = import_boundaries(REAL / "boundaries/gm_wards_may2022_bgc.geojson", options)
        assert (first.created, again.created, again.updated) == (215, 0, 215)
        assert count("ward") == 215

    def test_cli(self, runner):
        ok = runner.invoke(
            args=[
                "areas",
                "import-boundaries",
                str(REAL / "boundaries/gm_combined_authority_dec2023_bsc.geojson"),
                "--level",
                "authority",
                "--code-property",
                "area_code",
                "--name-property",
                "area_name",
            ]
        )
        assert ok.exit_code == 0 and "Imported 1 authority areas (1 new, 0 updated)" in ok.output
        clash = runner.invoke(
            args=[
                "areas",
                "import-boundaries",
                "x.geojson",
                "--level",
                "ward",
                "--code-property",
                "a",
                "--name-property",
                "b",
                "--parent-code",
                "E08000001",
                "--parent-property",
                "c",
            ]
        )
        assert clash.exit_code == 2

    def test_wards_before_their_boroughs_import_nothing(self, runner):
        result = runner.invoke(
            args=[
                "areas",
                "import-boundaries",
                str(REAL / "boundaries/gm_wards_may2023_bsc.geojson"),
                "--level",
                "ward",
                "--code-property",
                "area_code",
                "--name-property",
                "area_name",
                "--parent-property",
                "local_authority_area_code",
            ]
        )
        assert result.exit_code == 1
        assert (
            "Nothing was imported" in result.output
            and "feature 1 (E05" in result.output
            and "import the level above first" in result.output
        )
        assert count("ward") == 0


@needs_real
class TestRealCensus:
    @pytest.fixture(autouse=True)
    def _trafford(self, app):
        import_gm_authority_and_boroughs()
        import_boundaries(
            REAL / "boundaries/gm_wards_may2022_bgc.geojson",
            BoundaryOptions(
                AreaLevel.WARD,
                "area_code",
                "area_name",
                parent_lookup=REAL / "boundaries/gm_wards_may2022_to_lad22_lookup.csv",
                lookup_columns=("wd22cd", "lad22cd"),
            ),
        )

    def baselines(self, code: str, dimension: str) -> dict[str, int]:
        area = db.session.scalar(select(Area).where(Area.gss_code == code))
        return {b.category: b.count for b in area.baselines if b.dimension == dimension}

    def test_trafford_ward_tables(self, app):
        census = REAL / "census2021"
        sex = import_census(census / "trafford_wards2022_census2021_sex.csv")
        assert (sex.table, sex.areas) == ("sex", 21)
        assert self.baselines("E05000819", "sex") == {"female": 6599, "male": 6332}
        altrincham = db.session.scalar(select(Area).where(Area.gss_code == "E05000819"))
        assert altrincham.population == 12931

        age = import_census(census / "trafford_wards2022_census2021_single_year_age_by_sex.csv")
        assert age.table == "age_by_sex" and age.areas == 21
        bands = self.baselines("E05000819", "age_band")
        assert set(bands) == {"16-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75+"}
        assert sum(bands.values()) == 10153  # residents 16+ from the derived table
        assert bands["16-24"] == 953 and bands["25-34"] == 1907
        db.session.refresh(altrincham)
        assert altrincham.adult_population == 10153

        ethnic = import_census(census / "trafford_wards2022_census2021_ethnic_group.csv")
        groups = self.baselines("E05000819", "ethnic_group")
        assert set(groups) == {"asian", "black", "mixed", "white", "other"}
        assert 0 < ethnic.largest_total_difference < 100  # ONS perturbation: tolerated and reported

        import_census(census / "trafford_wards2022_census2021_disability.csv")
        assert set(self.baselines("E05000819", "disability")) == {"disabled", "not_disabled"}

    def test_borough_tables(self, app):
        result = import_census(REAL / "census2021/gm_lad_census2021_sex.csv")
        assert result.areas == 10
        result = import_census(REAL / "census2021/gm_lad_census2021_ethnic_group.csv")
        assert result.areas == 10
        bolton = self.baselines("E08000001", "ethnic_group")
        assert bolton["asian"] > 40000

    def test_reimport_replaces_rather_than_adds(self, app):
        import_census(REAL / "census2021/trafford_wards2022_census2021_sex.csv")
        import_census(REAL / "census2021/trafford_wards2022_census2021_sex.csv")
        assert self.baselines("E05000819", "sex") == {"female": 6599, "male": 6332}

    def test_cli(self, runner):
        result = runner.invoke(args=["areas", "import-census", str(REAL / "census2021/trafford_wards2022_census2021_sex.csv")])
        assert result.exit_code == 0 and "Imported sex for 21 areas" in result.output


def write(tmp_path, name, content) -> Path:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def feature(code="E05000001", name="Somewhere", parent="E08000001", geometry=None):
    ring = [[-2.2, 53.4], [-2.1, 53.4], [-2.1, 53.5], [-2.2, 53.4]]
    return {
        "type": "Feature",
        "properties": {"code": code, "name": name, "parent": parent},
        "geometry": geometry if geometry is not None else {"type": "Polygon", "coordinates": [ring]},
    }


@pytest.fixture
def borough(app):
    authority = Area(level=AreaLevel.AUTHORITY, gss_code="E47000099", name="A")
    db.session.add(authority)
    db.session.flush()
    borough = Area(level=AreaLevel.DISTRICT, gss_code="E08000001", name="B")
    db.session.add(borough)
    borough.parent = authority
    db.session.commit()
    return borough


WARD = BoundaryOptions(AreaLevel.WARD, "code", "name", parent_property="parent")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON (line 1"),
        ({"type": "Feature"}, "not a GeoJSON FeatureCollection"),
        ({"type": "FeatureCollection", "features": []}, "has no features"),
        ({"type": "FeatureCollection", "features": [feature(), {"type": "Point"}]}, "feature 2: not a GeoJSON Feature"),
        ({"type": "FeatureCollection", "features": [feature(code="X123")]}, "feature 1: 'X123' is not an ONS GSS code"),
        ({"type": "FeatureCollection", "features": [feature(code="E08000002")]}, "is not a ward code"),
        (
            {"type": "FeatureCollection", "features": [feature(), feature()]},
            "feature 2 (E05000001): the code appears more than once",
        ),
        (
            {"type": "FeatureCollection", "features": [feature(), feature(code="E05000002", name="")]},
            "feature 2 (E05000002): property 'name'",
        ),
        ({"type": "FeatureCollection", "features": [feature(parent="E08000009")]}, "parent E08000009 is not a known area"),
        (
            {"type": "FeatureCollection", "features": [feature(geometry={"type": "Point", "coordinates": [0, 0]})]},
            "must be a Polygon",
        ),
        (
            {
                "type": "FeatureCollection",
                "features": [
                    feature(
                        geometry={
                            "type": "Polygon",
                            "coordinates": [[[383000, 398000], [384000, 398000], [384000, 399000], [383000, 398000]]],
                        }
                    )
                ],
            },
            "British National Grid",
        ),
        (
            {
                "type": "FeatureCollection",
                "features": [
                    feature(
                        geometry={"type": "Polygon", "coordinates": [[[-2.2, 53.4], [-2.1, 53.4], [-2.1, 53.5], [-2.0, 53.6]]]}
                    )
                ],
            },
            "not closed",
        ),
        (
            {
                "type": "FeatureCollection",
                "features": [feature(geometry={"type": "Polygon", "coordinates": [[[-2.2, 53.4], [-2.2, 53.4]]]})],
            },
            "fewer than 4 positions",
        ),
        (
            {
                "type": "FeatureCollection",
                "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::27700"}},
                "features": [feature()],
            },
            "EPSG::27700",
        ),
    ],
)
def test_malformed_boundary_files_import_nothing(borough, tmp_path, content, message):
    path = write(tmp_path, "bad.geojson", content)
    with pytest.raises(ImportProblem) as caught:
        import_boundaries(path, WARD)
    assert message in str(caught.value)
    db.session.rollback()
    assert count("ward") == 0


def test_a_good_file_with_a_bad_last_feature_imports_nothing(borough, tmp_path):
    features = [feature(code=f"E0500000{n}") for n in range(1, 6)] + [feature(code="E05000009", parent="")]
    with pytest.raises(ImportProblem, match="feature 6"):
        import_boundaries(write(tmp_path, "x.geojson", {"type": "FeatureCollection", "features": features}), WARD)
    db.session.rollback()
    assert count("ward") == 0


CSV_HEADER = "area_code,area_name,geography,period,indicator,measure,unit,value\n"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "the file is empty"),
        ("a,b,c\n1,2,3\n", "not a Census 2021 table"),
        (CSV_HEADER, "has a header but no rows"),
        (CSV_HEADER + "E05000001,X,ward,2021,Female,Count,Persons,12\n", "line 2: area E05000001 is not in the geography"),
        (CSV_HEADER + "E08000001,B,la,2021,Female,Count,Persons,twelve\n", "line 2: value 'twelve' is not a number"),
        (CSV_HEADER + "E08000001,B,la,2021,Female,Count,Persons,-3\n", "not a whole number of people"),
        (
            CSV_HEADER + "E08000001,B,la,2021,Female,Count,Persons,12\nE08000001,B,la,2021,Unknown,Count,Persons,3\n",
            "line 3: sex 'Unknown'",
        ),
        (CSV_HEADER + "E08000001,B,la,2021,Female,Count,Persons\n", "line 2: has 7 cells, the header has 8"),
        (
            "area_code,area_name,geography,period,indicator,ethnic_group,measure,unit,value\nE08000001,B,la,2021,x,Martian,Count,Persons,4\n",
            "ethnic group 'Martian'",
        ),
    ],
)
def test_malformed_census_files_import_nothing(borough, tmp_path, content, message):
    with pytest.raises(ImportProblem) as caught:
        import_census(write(tmp_path, "bad.csv", content))
    assert message in str(caught.value)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(AreaBaseline)) == 0


def test_age_text_parsing():
    assert importers.parse_age("Aged under 1 year") == 0
    assert importers.parse_age("Aged 1 year") == 1
    assert importers.parse_age("Aged 16 years") == 16
    assert importers.parse_age("Aged 90 years and over") == 90
    assert importers.parse_age("90+") == 90
    assert importers.parse_age("nonsense") is None
    assert importers.age_band_for(15) is None and importers.age_band_for(16) == "16-24" and importers.age_band_for(90) == "75+"

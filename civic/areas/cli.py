"""`flask areas …`: import ONS boundaries and census tables."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from civic.areas import importers
from civic.areas.models import AreaLevel
from civic.extensions import db

areas_cli = AppGroup("areas", help="Import and inspect the geography (authority, boroughs, wards).")


@areas_cli.command("import-boundaries")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--level", type=click.Choice([lvl.value for lvl in AreaLevel]), required=True, help="What the features are.")
@click.option("--code-property", required=True, help="Feature property holding the GSS code, e.g. WD23CD or area_code.")
@click.option("--name-property", required=True, help="Feature property holding the name, e.g. WD23NM or area_name.")
@click.option("--parent-property", help="Feature property holding the parent's GSS code, e.g. LAD23CD.")
@click.option("--parent-code", help="One parent GSS code for every feature (e.g. the combined authority).")
@click.option("--parent-lookup", type=click.Path(path_type=Path), help="CSV mapping each code to its parent's code.")
@click.option("--lookup-columns", help="With --parent-lookup: the child and parent columns, e.g. wd22cd,lad22cd.")
def import_boundaries(file, level, code_property, name_property, parent_property, parent_code, parent_lookup, lookup_columns):
    """Load areas from a GeoJSON FeatureCollection (WGS84), all or nothing.

    Import the authority first, then its boroughs (--parent-code), then the wards
    (--parent-property or --parent-lookup). Re-importing updates names and boundaries.
    """
    chosen = [x for x in (parent_property, parent_code, parent_lookup) if x]
    if len(chosen) > 1:
        raise click.UsageError("give only one of --parent-property, --parent-code and --parent-lookup")
    columns = None
    if parent_lookup:
        if not lookup_columns or lookup_columns.count(",") != 1:
            raise click.UsageError("--parent-lookup needs --lookup-columns CHILD,PARENT")
        columns = tuple(c.strip() for c in lookup_columns.split(","))
    options = importers.BoundaryOptions(
        level=AreaLevel(level),
        code_property=code_property,
        name_property=name_property,
        parent_property=parent_property,
        parent_code=parent_code,
        parent_lookup=parent_lookup,
        lookup_columns=columns,
    )
    try:
        result = importers.import_boundaries(file, options)
    except importers.ImportProblem as exc:
        db.session.rollback()
        raise click.ClickException(f"Nothing was imported. {exc}") from exc
    click.echo(f"Imported {result.created + result.updated} {level} areas ({result.created} new, {result.updated} updated).")
    for parent, count in sorted(result.by_parent.items()):
        click.echo(f"  {parent}: {count}")


@areas_cli.command("import-census")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--source", help="Attribution stored with the baselines (default names the table and file).")
def import_census(file, source):
    """Load Census 2021 baselines (TS008 sex, TS009 age by sex, TS021 ethnic group, TS038 disability).

    The table is recognised from its columns; the areas must already be imported.
    """
    try:
        result = importers.import_census(file, source)
    except importers.ImportProblem as exc:
        db.session.rollback()
        raise click.ClickException(f"Nothing was imported. {exc}") from exc
    click.echo(
        f"Imported {result.table} for {result.areas} areas from {result.rows} rows "
        f"({', '.join(sorted(result.dimensions)) or 'totals only'})."
    )
    if result.largest_total_difference:
        click.echo(
            f"Categories and totals differ by up to {result.largest_total_difference} people: "
            "ONS perturbs census counts, so this is expected."
        )

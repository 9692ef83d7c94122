"""Public geography pages: the list of areas with an offline ward map."""

from __future__ import annotations

import hashlib
import json

from flask import Blueprint, Response, abort, render_template, request

from civic.areas import figures, services

bp = Blueprint("areas", __name__, url_prefix="/areas")


@bp.route("")
def index():
    tree = services.area_tree()
    wards = services.wards_with_boroughs(boundaries=True)
    figure = figures.ward_map(wards) if any(w.boundary for w in wards) else None
    return render_template("areas/index.html", tree=tree, wards=wards, figure=figure)


@bp.route("/wards.geojson")
def wards_geojson():
    """Ward boundaries for the maps, cached by the browser and revalidated by ETag."""
    body = json.dumps(services.ward_feature_collection(services.wards_with_boroughs(boundaries=True)), separators=(",", ":"))
    etag = hashlib.sha256(body.encode()).hexdigest()[:32]
    if request.if_none_match.contains(etag):
        return Response(status=304, headers={"ETag": f'"{etag}"'})
    response = Response(body, mimetype="application/geo+json")
    response.set_etag(etag)
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.route("/<gss_code>")
def detail(gss_code: str):
    area = services.area_by_code(gss_code)
    if area is None:
        abort(404)
    return render_template("areas/detail.html", area=area, baselines=services.baselines_table(area))

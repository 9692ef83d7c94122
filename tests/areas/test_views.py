import json
import re


def figure_json(body: str) -> dict:
    return json.loads(re.search(r'<script type="application/json" id="ward-map-data">(.*?)</script>', body, re.S).group(1))


def test_areas_page_lists_wards_and_draws_an_offline_map(client, geography):
    response = client.get("/areas")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Testshire Combined Authority" in body and "Borough 1" in body
    assert "&lt;script&gt;" in body and '<script>alert("x")' not in body
    figure = figure_json(body)
    assert {trace["type"] for trace in figure["data"]} == {"choropleth"}
    assert all(trace["geojson"] == "/areas/wards.geojson" for trace in figure["data"])
    assert sorted(loc for t in figure["data"] for loc in t["locations"]) == sorted(w.gss_code for w in geography.wards)
    assert "cdn" not in json.dumps(figure).lower()
    assert "/static/vendor/plotly-" in body


def test_the_map_and_plotly_are_served_locally(client, geography):
    body = client.get("/areas").get_data(as_text=True)
    plotly_path = re.search(r'src="(/static/vendor/plotly-[^"]+)"', body).group(1)
    js = client.get(plotly_path)
    assert js.status_code == 200 and js.mimetype == "text/javascript" and len(js.data) > 1_000_000
    js.close()
    assert client.get("/static/vendor/plotly-0.0.1.min.js").status_code == 404
    topo = client.get("/static/topojson/world_110m.json")
    assert topo.status_code == 200
    topo.close()


def test_ward_geojson_with_etag(client, geography):
    first = client.get("/areas/wards.geojson")
    data = first.json
    assert {f["id"] for f in data["features"]} == {w.gss_code for w in geography.wards}
    again = client.get("/areas/wards.geojson", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_area_detail_shows_baselines(client, geography):
    ward = geography.wards[1]
    body = client.get(f"/areas/{ward.gss_code}").get_data(as_text=True)
    assert "What is your sex?" in body and "5,100" in body
    assert geography.boroughs[0].name in body


def test_unknown_area_is_404(client, geography):
    assert client.get("/areas/E05999999").status_code == 404


def test_empty_geography(client, app):
    body = client.get("/areas").get_data(as_text=True)
    assert "No areas have been set up yet" in body
    assert "ward-map-data" not in body

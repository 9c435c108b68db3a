"""Rasters: SYNTHETIC GeoTIFFs made here (not real hazard data) with known values."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from affine import Affine

import geosource as gs


def _write(path, data, transform, crs="EPSG:4326", nodata=None):
    profile = {
        "driver": "GTiff",
        "width": data.shape[1],
        "height": data.shape[0],
        "count": 1,
        "dtype": "float32",
        "crs": crs,
        "transform": transform,
        "nodata": nodata,
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data.astype("float32"), 1)
    return path


def _halves(tmp_path, west=0.1, east=0.7, crs="EPSG:4326"):
    """SYNTHETIC: `west` west of 0°, `east` east of it, at 0.5° (or the 3857 equivalent)."""
    data = np.where(np.arange(720)[None, :] < 360, west, east).repeat(360, axis=0)
    if crs == "EPSG:4326":
        return _write(tmp_path / "halves.tif", data, Affine(0.5, 0.0, -180, 0.0, -(0.5), 90))
    half = 20037508.34
    data = np.where(np.arange(720)[None, :] < 360, west, east).repeat(720, axis=0)
    return _write(
        tmp_path / "halves3857.tif",
        data,
        Affine(2 * half / 720, 0.0, -half, 0.0, -(2 * half / 720), half),
        crs=crs,
    )


@pytest.fixture(scope="module")
def paths(G):
    return gs.sourcing_paths(
        G, ["rare_earths", "lithium"], ["IND", "USA"], k=None, as_of="2025-06-30"
    )


def _all_east(geom):
    return all(x >= 0 for part in geom.geoms for x, _ in part.coords)


def _all_west(geom):
    return all(x < 0 for part in geom.geoms for x, _ in part.coords)


@pytest.mark.parametrize("crs", ["EPSG:4326", "EPSG:3857"])
@pytest.mark.parametrize("stat", ["max", "mean", "p90"])
def test_known_values_any_crs(tmp_path, paths, stat, crs):
    out = gs.sample_raster(paths, _halves(tmp_path, crs=crs), name="piracy", stat=stat)
    east = out[out.geometry.map(_all_east)]
    west = out[out.geometry.map(_all_west)]
    both = out[~out.geometry.map(_all_east) & ~out.geometry.map(_all_west)]
    assert len(east) and len(both)
    assert np.allclose(east["piracy"], 0.7, atol=1e-6)
    if len(west):
        assert np.allclose(west["piracy"], 0.1, atol=1e-6)
    if stat == "max":
        assert np.allclose(both["piracy"], 0.7, atol=1e-6)
    else:
        assert ((both["piracy"] >= 0.1 - 1e-6) & (both["piracy"] <= 0.7 + 1e-6)).all()
    assert out["piracy_reason"].str.contains(f"{stat} of halves").all()


def test_rescoring_and_ranks(tmp_path, paths):
    zero = gs.sample_raster(paths, _halves(tmp_path, 0.0, 0.0), name="hazard", weight=1.0)
    w = gs.Weights()
    n = sum(getattr(w, c) for c in gs.exposure.COMPONENTS)
    key = ["mineral", "query", "chain", "demand_id"]
    merged = paths.merge(zero, on=key, suffixes=("", "_new"))
    assert len(merged) == len(paths)
    assert np.allclose(merged["exposure_new"], merged["exposure"] * n / (n + 1))
    assert zero.attrs["extra_components"] == {"hazard": 1.0}
    for _, part in zero.groupby(["mineral", "query"]):
        assert list(part["rank"]) == list(range(1, len(part) + 1))
        assert part["score"].is_monotonic_increasing


def test_nodata_is_honoured(tmp_path, paths):
    data = np.full((360, 720), -9999.0)
    tif = _write(
        tmp_path / "nodata.tif", data, Affine(0.5, 0.0, -180, 0.0, -(0.5), 90), nodata=-9999
    )
    out = gs.sample_raster(paths, tif, name="h")
    assert (out["h"] == 0).all()
    assert out["h_reason"].str.contains("no data along the path").all()


def test_path_across_the_antimeridian(tmp_path, paths):
    """SYNTHETIC raster: 1 within a degree of ±180°, 0 elsewhere."""
    data = np.zeros((180, 360))
    data[:, 0] = data[:, -1] = 1.0
    tif = _write(tmp_path / "seam.tif", data, Affine(1, 0.0, -180, 0.0, -(1), 90))
    out = gs.sample_raster(paths, tif, name="seam", every_km=5)
    crosses = out.geometry.map(
        lambda g: (
            len(g.geoms) > 1 and any(abs(x) >= 179.999 for part in g.geoms for x, _ in part.coords)
        )
    )
    assert crosses.any()
    assert (out.loc[crosses, "seam"] == 1.0).all()
    far = out.geometry.map(lambda g: all(abs(x) < 170 for p in g.geoms for x, _ in p.coords))
    assert (out.loc[far, "seam"] == 0.0).all()


def test_scale_and_range_errors(tmp_path, paths):
    data = np.full((360, 720), 50.0)
    tif = _write(tmp_path / "pct.tif", data, Affine(0.5, 0.0, -180, 0.0, -(0.5), 90))
    with pytest.raises(ValueError, match="outside \\[0, 1\\]; pass scale="):
        gs.sample_raster(paths, tif, name="risk")
    out = gs.sample_raster(paths, tif, name="risk", scale=(0, 100))
    assert np.allclose(out["risk"], 0.5)
    with pytest.raises(ValueError, match="stat must be one of"):
        gs.sample_raster(paths, tif, name="risk", stat="median")
    with pytest.raises(FileNotFoundError, match="raster not found"):
        gs.sample_raster(paths, tmp_path / "none.tif", name="risk")


def test_opportunity_surface(tmp_path, G, layers):
    out = tmp_path / "surface.tif"
    s = gs.opportunity_surface(G, mineral="rare_earths", to="IND", resolution_deg=1.0, out=out)
    with rasterio.open(out) as ds:
        assert ds.count == len(gs.surfaces.SURFACE_BANDS)
        assert ds.descriptions == gs.surfaces.SURFACE_BANDS
        assert ds.crs.to_epsg() == 4326
        total = ds.read(3)
    assert s["cells"] == int(np.isfinite(total).sum()) > 10_000
    for name in (
        "concentration",
        "governance",
        "alignment",
        "export_controls",
        "exposure",
        "score",
    ):
        band = s["bands"][name]
        assert np.nanmin(band) >= 0 and np.nanmax(band) <= 1
    # a cell: its total equals land leg + the engine's port -> buyer distance
    lon, lat = 78.5, 17.5  # Hyderabad's cell, India
    row, col = int((90 - lat) // 1.0), int((lon + 180) // 1.0)
    assert s["bands"]["alignment"][row, col] == 0.0, "India's own cells: same country"
    assert s["bands"]["total_km"][row, col] < 2_000
    chinese = s["bands"]["alignment"][int(90 - 35.5), int(180 + 105.5)]
    assert chinese == gs.ExposureParams().alignment["feoc"]


def test_surface_map_draws(tmp_path, G):
    s = gs.opportunity_surface(G, mineral="lithium", to="USA", resolution_deg=2.0)
    m = gs.map_surface(s, "score")
    page = m.get_root().render()
    assert "L.imageOverlay" in page and "data:image/png;base64," in page


def test_friction_path_goes_through_the_gap(tmp_path):
    """SYNTHETIC friction: 1 per km everywhere (UTM 33N, 1 km cells), a wall with one gap."""
    data = np.ones((21, 21))
    data[:, 10] = -1  # impassable wall
    data[15, 10] = 1  # the gap
    tif = _write(
        tmp_path / "friction.tif",
        data,
        Affine(1000, 0.0, 500_000, 0.0, -(1000), 5_021_000),
        crs="EPSG:32633",
        nodata=-1,
    )
    from pyproj import Transformer

    to_ll = Transformer.from_crs("EPSG:32633", "EPSG:4326", always_xy=True)
    a = to_ll.transform(502_500, 5_015_500)  # row 5, col 2
    b = to_ll.transform(517_500, 5_015_500)  # row 5, col 17
    cost, path = gs.friction_path(tif, a, b)
    gap = to_ll.transform(510_500, 5_005_500)  # row 15, col 10
    assert any(abs(x - gap[0]) < 1e-3 and abs(y - gap[1]) < 1e-3 for x, y in path)
    # straight it would be 15 km; around through the gap: 2 × hypot(8, 10) + 1 ... cells
    assert 15 < cost < 30
    open_data = np.ones((21, 21))
    tif2 = _write(
        tmp_path / "open.tif",
        open_data,
        Affine(1000, 0.0, 500_000, 0.0, -(1000), 5_021_000),
        crs="EPSG:32633",
    )
    straight, _ = gs.friction_path(tif2, a, b)
    assert straight == pytest.approx(15.0, rel=0.01)
    with pytest.raises(ValueError, match="outside the friction raster"):
        gs.friction_path(tif2, (0.0, 0.0), b)


def test_raster_component_reaches_the_map(tmp_path, paths):
    out = gs.sample_raster(paths.head(3), _halves(tmp_path), name="piracy")
    page = gs.map_paths(out).get_root().render()
    assert "piracy" in page and "max of halves.tif" in page


def test_friction_raster_drives_land_legs(tmp_path, layers):
    """SYNTHETIC uniform friction 2.0 over south-west Australia: Greenbushes' leg to Bunbury
    becomes about twice its geodesic length (not 1.3 times)."""
    data = np.full((300, 200), 2.0)
    tif = _write(tmp_path / "fr.tif", data, Affine(0.01, 0.0, 115.0, 0.0, -0.01, -32.0))
    H = gs.graph_from_layers(layers, options=gs.NetworkOptions(friction=str(tif)))
    G0 = gs.graph_from_layers(layers)
    a, b = "facility:li-greenbushes", "port:AUBUY"
    fr = H[a][b][0]
    base = G0[a][b][0]
    geodesic = base["length_km"] / 1.3
    assert fr["length_km"] == pytest.approx(2.0 * geodesic, rel=0.06)
    assert "least-cost path over fr.tif" in fr["basis"]
    # legs off the raster are unchanged
    c = "facility:ree-mount-weld"
    port = next(v for v in G0.successors(c) if v.startswith("port:"))
    assert H[c][port][0]["length_km"] == pytest.approx(G0[c][port][0]["length_km"])

"""Shared fixtures. Bundled layers load once per session; synthetic frames say so."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import networkx as nx
import pandas as pd
import pytest

import geosource as gs


@pytest.fixture(scope="session", autouse=True)
def _cache_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Every command of the suite caches layers and graphs in one temporary folder, never in
    the user's cache folder; later commands find what earlier ones built."""
    folder = tmp_path_factory.mktemp("geosource-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GEOSOURCE_CACHE_DIR", str(folder))
        yield folder


@pytest.fixture(scope="session")
def layers() -> gs.Layers:
    return gs.load_layers()


@pytest.fixture(scope="session")
def G(layers: gs.Layers) -> nx.MultiDiGraph:
    """The route graph on the bundled layers, built once."""
    return gs.graph_from_layers(layers)


@pytest.fixture
def synthetic_facilities() -> pd.DataFrame:
    """SYNTHETIC test rows (not real facilities): text cells, as a CSV reader gives them."""
    return pd.DataFrame(
        {
            "id": ["t-one", "t-two", "t-three"],
            "name": ["Synthetic mine", "Synthetic refinery", "Synthetic magnet plant"],
            "mineral": ["lithium", "Rare earths", "REE"],
            "stage": ["mining", "refining", "manufacturing"],
            "kind": ["mine", "separation_plant", "magnet_plant"],
            "status": ["operating", "construction", "development"],
            "country": ["Australia", "IN", "usa"],
            "lon": ["118.07", "80.27", "-97.33"],
            "lat": ["-33.86", "13.08", "32.75"],
            "coord_precision": ["approx", "approx", "approx"],
            "capacity": ["1000", "", "1000.5"],
            "capacity_unit": ["t/y LCE", "", "t/y magnets"],
            "capacity_basis": ["nameplate", "", "nameplate"],
            "capacity_year": ["2024", "", "2025"],
            "capacity_estimate": ["false", "", "true"],
            "operator": ["Test Co", "", "Test Co"],
            "export_port": ["AUBUY", "", ""],
            "source": ["synthetic test row"] * 3,
            "as_of": ["2024-06-30", "2025-01-01", "2025-01-01"],
            "notes": ["", "", ""],
            "analyst_flag": ["a", "", "c"],
        }
    )


@pytest.fixture
def synthetic_facilities_csv(tmp_path, synthetic_facilities) -> str:
    path = tmp_path / "synthetic_facilities.csv"
    synthetic_facilities.to_csv(path, index=False)
    return str(path)


@pytest.fixture
def synthetic_chokepoints() -> gpd.GeoDataFrame:
    """SYNTHETIC chokepoint rows for I/O tests (the polygons are boxes, not real straits)."""
    return pd.DataFrame(
        {
            "id": ["box-a", "box-b"],
            "name": ["Box A", "Box B"],
            "lon": ["10.5", "-20.25"],
            "lat": ["5.5", "-10.75"],
            "geometry_wkt": [
                "POLYGON ((10 5, 11 5, 11 6, 10 6, 10 5))",
                "POLYGON ((-21 -11, -20 -11, -20 -10, -21 -10, -21 -11))",
            ],
            "searoute_passage": ["malacca", ""],
            "risk": ["0.5", "0.125"],
            "risk_rationale": ["synthetic", "synthetic"],
            "source": ["synthetic test row", "synthetic test row"],
            "as_of": ["2025-01-01", "2025-01-01"],
        }
    )

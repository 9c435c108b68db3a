"""Property tests (hypothesis) for country normalisation and coordinate validation."""

from __future__ import annotations

import pandas as pd
import pycountry
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import geosource as gs
from geosource._validate import validate_frame

COUNTRIES = sorted(pycountry.countries, key=lambda c: c.alpha_3)


@given(
    st.sampled_from(COUNTRIES),
    st.sampled_from(["alpha_2", "alpha_3", "name"]),
    st.sampled_from([str.lower, str.upper, str.title, lambda s: s]),
    st.sampled_from(["", " ", "  "]),
)
def test_every_form_of_a_country_normalises_to_its_alpha3(country, attr, case, pad):
    value = pad + case(getattr(country, attr)) + pad
    assert gs.normalize_country(value) == country.alpha_3


@given(st.text(max_size=30))
def test_normalisation_is_total(value):
    """Any text either normalises to a known ISO3 code or raises ValueError, nothing else."""
    try:
        code = gs.normalize_country(value)
    except ValueError as exc:
        message = str(exc)
        assert "is not a country" in message
    else:
        assert code == "XKX" or pycountry.countries.get(alpha_3=code) is not None
        assert gs.normalize_country(code) == code, "normalising is idempotent"


def _point_frame(lon: float, lat: float) -> pd.DataFrame:
    """One SYNTHETIC demand-centre row with the given coordinates."""
    return pd.DataFrame(
        {
            "id": ["p"],
            "name": ["synthetic"],
            "country": ["USA"],
            "lon": [repr(lon)],
            "lat": [repr(lat)],
            "coord_precision": ["approx"],
            "import_ports": ["USLAX"],
            "source": ["synthetic"],
            "as_of": ["2025-01-01"],
        }
    )


finite = {"allow_nan": False, "allow_infinity": False}


@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=150, deadline=None)
@given(st.floats(-180, 180, **finite), st.floats(-90, 90, **finite))
def test_coordinates_in_range_raise_no_range_problem(lon, lat):
    report = validate_frame(_point_frame(lon, lat), "demand_centres")
    assert not [
        p for p in report.problems if p.field in ("lon", "lat") and "look swapped" not in p.problem
    ], report.problems
    point = report.data.geometry.iloc[0]
    assert (point.x, point.y) == (lon, lat)


@settings(max_examples=150, deadline=None)
@given(
    st.one_of(st.floats(180.0001, 1e6, **finite), st.floats(-1e6, -180.0001, **finite)),
    st.floats(-90, 90, **finite),
)
def test_longitude_out_of_range_is_reported_on_lon(lon, lat):
    report = validate_frame(_point_frame(lon, lat), "demand_centres")
    assert [p.field for p in report.problems] == ["lon"]


@settings(max_examples=150, deadline=None)
@given(
    st.floats(-90, 90, **finite),
    st.one_of(st.floats(90.0001, 180, **finite), st.floats(-180, -90.0001, **finite)),
)
def test_swapped_coordinates_are_named_as_such(lat, lon_given_as_lat):
    """A latitude beyond ±90 whose partner would be a valid latitude: reported as a swap."""
    report = validate_frame(_point_frame(lat, lon_given_as_lat), "demand_centres")
    assert len(report.problems) == 1
    assert report.problems[0].field == "lat"
    assert "look swapped" in report.problems[0].problem


@pytest.mark.parametrize("text", ["nan", "inf", "-inf", "1e400"])
def test_non_finite_coordinates_rejected(text):
    frame = _point_frame(0.0, 0.0)
    frame.loc[0, "lon"] = text
    report = validate_frame(frame, "demand_centres")
    assert [p.field for p in report.problems] == ["lon"]

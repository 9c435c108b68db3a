"""A battery of bad invocations: each ends with exit code 2, exactly one line on stderr that
names what is wrong, and no traceback.

The cases run in process through ``geosource.cli.run`` (the console script's entry point) and
almost all fail before any layer is loaded, so the battery takes seconds. The files they use
are SYNTHETIC: small configs and one-row layers written into a temporary folder.
"""

from __future__ import annotations

import json
import os
import shutil
import warnings
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from geosource.cli import run

# ---------------------------------------------------------------------------------------------
# the workspace: files the cases refer to as {ws}/name

_G = 'mineral = "graphite"\nto = "JPN"\n'  # the start of a sweep config
_R = 'buyers = ["JPN"]\nminerals = ["germanium"]\n'  # the start of a report config
_M = 'name = "x"\n[[add_measures]]\ncountry = "CHN"\nminerals = "gallium"\n'  # a measure

_TOML = {
    "good_report.toml": _R + 'as_of = ["2025-06-30"]\nk = 1\n',
    "good_sweep.toml": _G + "n = 10\n",
    # weights
    "w_text.toml": 'distance = "0.4"\n',
    "w_bool.toml": "exposure = true\n",
    "w_list.toml": "distance = [0.4]\n",
    "w_table.toml": "[distance]\nvalue = 0.4\n",
    "w_unknown.toml": "distnace = 0.4\n",
    "w_negative.toml": "distance = -1\n",
    "w_inf.toml": "distance = inf\n",
    "w_nan.toml": "exposure = nan\n",
    "w_zero.toml": "distance = 0\nexposure = 0\n",
    "w_nested_text.toml": '[weights]\ndistance = "x"\n',
    "w_nested_extra.toml": "weights = { distance = 0.5 }\ncolour = 1\n",
    "w_scalar_table.toml": "weights = 5\n",
    "w_bad.toml": "distance = \n",
    "w_two.toml": 'distance = "a"\nexposure = false\nchokepoints = [1]\n',
    # reports
    "r_k_text.toml": 'k = "5"\n',
    "r_k_bool.toml": "k = true\n",
    "r_k_float.toml": "k = 5.5\n",
    "r_k_zero.toml": "k = 0\n",
    "r_k_huge.toml": "k = 9223372036854775807\n",
    "r_title_list.toml": 'title = ["a", "b"]\n',
    "r_buyers_number.toml": "buyers = 356\n",
    "r_buyers_empty.toml": "buyers = []\n",
    "r_minerals_numbers.toml": "minerals = [1, 2]\n",
    "r_minerals_bad.toml": 'minerals = ["unobtainium"]\n',
    "r_as_of_number.toml": "as_of = 20250630\n",
    "r_as_of_text.toml": 'as_of = ["June"]\n',
    "r_dev_text.toml": 'include_development = "false"\n',
    "r_dev_number.toml": "include_development = 1\n",
    "r_dev_status.toml": 'include_development = ["mothballed"]\n',
    "r_weights_scalar.toml": "weights = 0.4\n",
    "r_weights_text.toml": '[weights]\ndistance = "x"\n',
    "r_unknown.toml": 'colour = "red"\n',
    "r_scenarios_number.toml": "scenarios = 5\n",
    "r_scenario_unknown.toml": _R + 'scenarios = ["no-such-what-if"]\n',
    "r_scenario_file_bad.toml": 'buyers = ["JPN"]\nscenarios = ["{ws}/s_closed_number.toml"]\n',
    "r_many.toml": 'k = "5"\ntitle = 3\ninclude_development = "true"\n',
    # scenarios
    "s_no_name.toml": 'description = "no name"\n',
    "s_name_list.toml": 'name = ["a"]\n',
    "s_name_empty.toml": 'name = "  "\n',
    "s_closed_number.toml": 'name = "x"\nclosed_passages = 5\n',
    "s_capacity_scalar.toml": 'name = "x"\ncapacity = 5\n',
    "s_capacity_text.toml": 'name = "x"\n[capacity]\n"li-greenbushes" = "big"\n',
    "s_capacity_negative.toml": 'name = "x"\n[capacity]\n"li-greenbushes" = -5\n',
    "s_measures_text.toml": 'name = "x"\nadd_measures = "ban"\n',
    "s_measure_country.toml": _M.replace('"CHN"', '"Atlantis"'),
    "s_measure_kind.toml": _M + 'measure = "embargo"\n',
    "s_measure_stage.toml": _M + 'stage = "smelting"\n',
    "s_measure_unknown.toml": _M + "severity = 1\n",
    "s_measure_mineral.toml": _M.replace('"gallium"', '"unobtainium"'),
    "s_measure_date.toml": _M + 'effective = "soon"\n',
    "s_sanctioned.toml": 'name = "x"\nsanctioned = ["Narnia"]\n',
    "s_as_of.toml": 'name = "x"\nas_of = "June"\n',
    "s_weights.toml": 'name = "x"\n[weights]\ndistance = "a"\n',
    "s_unknown.toml": 'name = "x"\nclose = ["suez"]\n',
    "s_offline_bool.toml": 'name = "x"\noffline = true\n',
    # sweeps
    "sw_n_text.toml": _G + 'n = "100"\n',
    "sw_n_bool.toml": _G + "n = true\n",
    "sw_n_float.toml": _G + "n = 1.5\n",
    "sw_n_huge.toml": _G + "n = 1_000_000_000_000\n",
    "sw_n_zero.toml": _G + "n = 0\n",
    "sw_seed_negative.toml": _G + "seed = -1\n",
    "sw_seed_text.toml": _G + 'seed = "x"\n',
    "sw_mineral_list.toml": 'mineral = ["graphite", "lithium"]\nto = "JPN"\n',
    "sw_mineral_bad.toml": 'mineral = "graphyte"\nto = "JPN"\n',
    "sw_to_number.toml": 'mineral = "graphite"\nto = 392\n',
    "sw_missing_to.toml": 'mineral = "graphite"\n',
    "sw_unknown.toml": _G + "draws = 5\n",
    "sw_closures_scalar.toml": _G + "closures = 0.1\n",
    "sw_closures_text.toml": _G + '[closures]\nmalacca = "0.1"\n',
    "sw_closures_range.toml": _G + "[closures]\nmalacca = 1.5\n",
    "sw_outages_negative.toml": _G + '[outages]\n"gr-balama" = -0.1\n',
    "sw_measures_unknown.toml": _G + '[measures]\n"no-such-ban" = 0.1\n',
    "sw_executor.toml": _G + 'executor = "threads"\n',
    "sw_scheduler_number.toml": _G + "scheduler = 8786\n",
    "sw_scheduler_port.toml": _G + 'scheduler = "tcp://127.0.0.1:99999"\n',
    "sw_demand_text.toml": _G + 'demand_t = "8000"\n',
    "sw_demand_huge.toml": _G + "demand_t = 1e30\n",
    "sw_demand_zero.toml": _G + "demand_t = 0\n",
    "sw_dev_text.toml": _G + 'include_development = "false"\n',
    "sw_threshold_text.toml": _G + 'score_threshold = "x"\n',
    "sw_as_of.toml": _G + 'as_of = "2025-13-01"\n',
    "sw_empty.toml": "",
    "sw_unreachable.toml": _G + 'executor = "dask"\nscheduler = "tcp://127.0.0.1:1"\n',
}

_OTHER = {
    "w_list.json": "[1, 2]",
    "w_bad.json": '{"distance": ',
    "w_duplicate.json": '{"distance": 0.4, "distance": 0.5}',
    "w_deep.json": "[" * 100_000 + "]" * 100_000,
    "w_bad.yaml": "distance: [0.4\n",
    "w_duplicate.yaml": "distance: 0.4\ndistance: 0.5\n",
    "w_python.yaml": "distance: !!python/object/apply:os.system ['true']\n",
    "w_scalar.yaml": "0.4\n",
    "w.ini": "distance = 0.4\n",
    # YAML aliases: a few hundred bytes that would expand to gigabytes
    "s_bomb.yaml": "name: bomb\n"
    + 'a: &a ["x","x","x","x","x","x","x","x","x"]\n'
    + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(8)
    ),
    "r_bomb.yaml": 'buyers: &b ["IND"]\nminerals: *b\n',
    "sw_bomb.yaml": "mineral: graphite\nto: JPN\nclosures: &c {malacca: 0.1}\nmeasures: *c\n",
    "sw_list.json": '[{"mineral": "graphite"}]',
}


def _layer_rows() -> pd.DataFrame:
    """One SYNTHETIC facility row (not a real site)."""
    return pd.DataFrame(
        {
            "id": ["t-one"],
            "name": ["Synthetic mine"],
            "mineral": ["lithium"],
            "stage": ["mining"],
            "kind": ["mine"],
            "status": ["operating"],
            "country": ["Australia"],
            "coord_precision": ["approx"],
            "capacity": [1000.0],
            "capacity_unit": ["t/y LCE"],
            "capacity_basis": ["nameplate"],
            "capacity_year": [2024],
            "capacity_estimate": [False],
            "operator": ["Test Co"],
            "export_port": ["AUBUY"],
            "source": ["synthetic test row"],
            "as_of": ["2024-06-30"],
            "notes": [""],
        }
    )


_GEOMETRIES = {
    "polygon": shapely.Polygon([(118, -34), (119, -34), (119, -33), (118, -34)]),
    "line": shapely.LineString([(118, -34), (119, -33)]),
    "multipoint": shapely.MultiPoint([(118, -34), (118.1, -33.9)]),
    "pointz": shapely.Point(118.07, -33.86, 10.0),
}
_FORMATS = ("geojson", "gpkg", "parquet", "shp")


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("battery")
    for name, text in _TOML.items():
        (root / name).write_text(text.replace("{ws}", str(root)), encoding="utf-8")
    for name, text in _OTHER.items():
        (root / name).write_text(text, encoding="utf-8")
    (root / "w_latin1.toml").write_bytes(b"distance = 0.4 # \xe9\xff\n")
    (root / "w_large.toml").write_text("# padding\n" * 120_000, encoding="utf-8")
    (root / "w_folder.toml").mkdir()
    (root / "afile.txt").write_text("not a folder\n", encoding="utf-8")
    (root / "adir").mkdir()
    (root / "adir.csv").mkdir()
    (root / "foreign").mkdir()
    (root / "foreign" / "notes.txt").write_text("someone's notes\n", encoding="utf-8")
    (root / "null.html").symlink_to(os.devnull)
    (root / "null.csv").symlink_to(os.devnull)
    (root / "null.gpkg").symlink_to(os.devnull)
    rows = _layer_rows()
    for geom, shape in _GEOMETRIES.items():
        gdf = gpd.GeoDataFrame(rows, geometry=[shape], crs="EPSG:4326")
        for fmt in _FORMATS:
            path = root / f"{geom}.{fmt}"
            if fmt == "parquet":
                gdf.to_parquet(path)
            else:
                with warnings.catch_warnings():  # Shapefile: long column names cut (known)
                    warnings.simplefilter("ignore")
                    gdf.to_file(path)
    collection = shapely.GeometryCollection([shapely.Point(118, -34)])
    gpd.GeoDataFrame(rows, geometry=[collection], crs="EPSG:4326").to_file(
        root / "collection.geojson"
    )
    bad = rows.assign(lon=[118.07], lat=[-33.86], country=["Atlantis"])
    bad.to_csv(root / "all_bad.csv", index=False)
    bad.iloc[0:0].to_csv(root / "header_only.csv", index=False)
    bad.drop(columns=["lat"]).assign(country="Australia").to_csv(
        root / "missing_lat.csv", index=False
    )
    (root / "broken.csv").write_text('id,name\n"t-one,Unclosed quote\n', encoding="utf-8")
    (root / "latin1.csv").write_bytes(b"id,name\nt-one,Se\xf1or\xff\n")
    (root / "mines.xlsx").write_bytes(b"PK\x03\x04")
    return root


# ---------------------------------------------------------------------------------------------
# the cases: (id, arguments, text the one line must contain)

P = ["paths", "-m", "lithium", "-t", "IND"]
MAP = ["map", "-m", "rare_earths", "-o", "{ws}/out.html"]
A = ["allocate", "-m", "rare_earths", "-t", "IND"]

USAGE = [
    ("no-options", ["paths"], "Missing option '--mineral'"),
    ("no-buyer", ["paths", "-m", "lithium"], "Missing option '--to'"),
    ("unknown-option", [*P, "--bogus"], "No such option: --bogus"),
    ("extra-argument", [*P, "extra"], "unexpected extra argument"),
    ("unknown-command", ["sourcing"], "No such command 'sourcing'"),
    ("option-without-value", ["paths", "-m"], "requires an argument"),
    ("k-not-integer", [*P, "--k", "abc"], "--k"),
    ("k-float", [*P, "--k", "2.5"], "--k"),
    ("demand-not-number", [*A, "--demand-t", "lots"], "--demand-t"),
    ("demand-missing", A, "Missing option '--demand-t'"),
    ("layers-unknown-command", ["layers", "check"], "No such command 'check'"),
    ("layers-show-no-name", ["layers", "show"], "Missing argument"),
    ("report-no-config", ["report"], "Missing argument"),
    ("sweep-no-config", ["sweep"], "Missing argument"),
    ("compare-no-scenario", ["compare", "-m", "lithium", "-t", "IND"], "--scenario"),
    ("map-no-output", ["map", "-m", "lithium"], "Missing option '--output'"),
    ("scenarios-list-extra", ["scenarios", "list", "all"], "unexpected extra argument"),
    ("demo-as-of-no-value", ["demo", "--as-of"], "requires an argument"),
    ("include-blocked-value", [*P, "--include-blocked=yes"], "--include-blocked"),
]

REPEATS = [
    ("k-twice", [*P, "--k", "3", "--k", "5"], "--k takes one value but was given 2 times"),
    ("k-twice-equals", [*P, "--k=3", "--k", "5"], "--k takes one value"),
    ("as-of-twice", [*P, "--as-of", "2025-01-01", "--as-of", "2026-01-01"], "--as-of takes one"),
    ("output-twice", [*P, "-o", "{ws}/a.csv", "--output", "{ws}/b.csv"], "takes one value"),
    ("product-twice", [*P, "--product", "lithium_carbonate", "--product", "x"], "--product"),
    ("links-twice", [*P, "--links", "documented", "--links", "compatible"], "--links takes one"),
    ("scenario-twice", [*P, "--scenario", "a", "--scenario", "b"], "--scenario takes one"),
    ("map-output-twice", [*MAP, "-o", "{ws}/b.html"], "takes one value"),
    (
        "allocate-two-minerals",
        ["allocate", "-m", "lithium", "-m", "graphite", "-t", "IND", "--demand-t", "5"],
        "got --mineral 2 times (lithium, graphite)",
    ),
    (
        "allocate-two-buyers",
        ["allocate", "-m", "lithium", "-t", "IND", "-t", "USA", "--demand-t", "5"],
        "got --to 2 times (IND, USA)",
    ),
    ("allocate-demand-twice", [*A, "--demand-t", "5", "--demand-t", "6"], "--demand-t takes one"),
    (
        "layers-map-two-minerals",
        ["map", "-m", "lithium", "-m", "graphite", "-o", "{ws}/o.html"],
        "a layers map shows one mineral; got 2 (lithium, graphite)",
    ),
    (
        "report-output-twice",
        ["report", "{ws}/good_report.toml", "-o", "{ws}/r1", "-o", "{ws}/r2"],
        "takes one value",
    ),
    (
        "sweep-scheduler-twice",
        ["sweep", "{ws}/good_sweep.toml", "--scheduler", "a:1", "--scheduler", "b:2"],
        "--scheduler takes one",
    ),
    (
        "compare-scenario-twice",
        ["compare", "--scenario", "a", "--scenario", "b", "-m", "lithium", "-t", "IND"],
        "--scenario takes one",
    ),
    (
        "validate-kind-twice",
        ["layers", "validate", "{ws}/all_bad.csv", "--kind", "facilities", "--kind", "airports"],
        "--kind takes one",
    ),
]

VALUES = [
    ("unknown-mineral", ["paths", "-m", "lithum", "-t", "IND"], "'lithum' is not a known mineral"),
    ("empty-mineral", ["paths", "-m", "", "-t", "IND"], "--mineral"),
    (
        "unknown-country",
        ["paths", "-m", "lithium", "-t", "Atlantis"],
        "'Atlantis' is not a country",
    ),
    ("empty-buyer", ["paths", "-m", "lithium", "-t", ""], "--to: item 1 is empty"),
    (
        "links-choice",
        [*P, "--links", "rumoured"],
        "'rumoured' is not one of: compatible, documented",
    ),
    (
        "distinct-choice",
        [*P, "--distinct", "mines"],
        "'mines' is not one of: countries, facilities",
    ),
    ("status-choice", [*P, "--status", "mothballed"], "'mothballed' is not a facility status"),
    ("status-operating", [*P, "--status", "operating"], "'operating' is not a facility status"),
    ("exclude-country", [*P, "--exclude", "Atlantis"], "--exclude: 'Atlantis' is not a country"),
    ("exclude-owners-country", [*P, "--exclude-owners", "Narnia"], "--exclude-owners: 'Narnia'"),
    ("product-of-other-mineral", [*P, "--product", "ndfeb_magnet"], "not a product of lithium"),
    (
        "product-unknown",
        ["paths", "-m", "rare_earths", "-t", "IND", "--product", "magnets"],
        "not a product of rare_earths",
    ),
    (
        "product-not-of-every-mineral",
        ["paths", "-m", "rare_earths", "-m", "lithium", "-t", "IND", "--product", "ndfeb_magnet"],
        "'ndfeb_magnet' is not a product of lithium",
    ),
    ("as-of-word", [*P, "--as-of", "June"], "--as-of: 'June' is not a date"),
    ("as-of-impossible", [*P, "--as-of", "2025-02-30"], "'2025-02-30' is not a date"),
    ("k-negative", [*P, "--k", "-1"], "--k: -1 is below the minimum 0"),
    ("k-huge", [*P, "--k", str(10**20)], "is above the maximum 1,000,000"),
    ("several-problems", [*P, "--k", "-1", "--links", "x", "--exclude", "Atlantis"], "3 problems"),
    ("scenario-unknown", [*P, "--scenario", "red-sea"], "unknown scenario 'red-sea'"),
    ("scenario-missing-file", [*P, "--scenario", "{ws}/nope.toml"], "scenario file not found"),
    ("weights-missing-file", [*P, "--weights", "{ws}/nope.toml"], "weights file not found"),
    ("output-suffix", [*P, "-o", "{ws}/x.xlsx"], "cannot write results 'x.xlsx'"),
    ("output-no-suffix", [*P, "-o", "{ws}/results"], "cannot write results 'results'"),
    ("map-output-suffix", ["map", "-m", "lithium", "-o", "{ws}/x.png"], "use .html"),
    (
        "map-png-suffix",
        [*MAP, "-t", "IND", "--png", "{ws}/x.jpg"],
        "cannot write PNG 'x.jpg': use .png",
    ),
    (
        "compare-output-suffix",
        ["compare", "--scenario", "red-sea-closure", *P[1:], "-o", "{ws}/d.json"],
        "use .csv",
    ),
    (
        "compare-map-suffix",
        ["compare", "--scenario", "red-sea-closure", *P[1:], "--map", "{ws}/d.png"],
        "use .html",
    ),
    (
        "validate-output-suffix",
        ["layers", "validate", "{ws}/all_bad.csv", "-o", "{ws}/x.xlsx"],
        "x.xlsx",
    ),
    (
        "validate-kind",
        ["layers", "validate", "{ws}/all_bad.csv", "--kind", "mines"],
        "unknown kind 'mines'",
    ),
    ("show-unknown-layer", ["layers", "show", "mines"], "no layer 'mines'; layers are: facilities"),
    ("show-unknown-mineral", ["layers", "show", "facilities", "--mineral", "mithril"], "'mithril'"),
    (
        "layers-map-product",
        [*MAP, "--product", "ndfeb_magnet"],
        "--product applies to options maps",
    ),
    (
        "layers-map-scenario",
        [*MAP, "--scenario", "red-sea-closure"],
        "--scenario applies to options",
    ),
    ("layers-map-png", [*MAP, "--png", "{ws}/m.png"], "--png applies to options maps"),
    ("layers-map-several", [*MAP, "--k", "3", "--exclude", "CHN"], "--k, --exclude apply to"),
    (
        "sweep-executor",
        ["sweep", "{ws}/good_sweep.toml", "--executor", "threads"],
        "'threads' is not one of",
    ),
    (
        "sweep-scheduler-form",
        ["sweep", "{ws}/good_sweep.toml", "--scheduler", "not an address"],
        "not a Dask scheduler address",
    ),
    (
        "share-above-one",
        [*A, "--demand-t", "5", "--max-country-share", "2"],
        "max_country_share must be in [0, 1]",
    ),
    (
        "share-nan",
        [*A, "--demand-t", "5", "--max-country-share", "nan"],
        "max_country_share must be in",
    ),
    ("share-negative", [*A, "--demand-t", "5", "--max-country-share", "-0.1"], "max_country_share"),
    ("demand-zero", [*A, "--demand-t", "0"], "demand_t must be a positive number"),
    ("demand-negative", [*A, "--demand-t", "-5"], "demand_t must be a positive number"),
    ("demand-huge", [*A, "--demand-t", "1e30"], "beyond any market"),
    ("demand-inf", [*A, "--demand-t", "inf"], "demand_t must be a positive number"),
    ("demand-nan", [*A, "--demand-t", "nan"], "demand_t must be a positive number"),
    (
        "allocate-unknown-mineral",
        ["allocate", "-m", "lithum", "-t", "IND", "--demand-t", "5"],
        "'lithum'",
    ),
    (
        "allocate-unknown-buyer",
        ["allocate", "-m", "lithium", "-t", "Mordor", "--demand-t", "5"],
        "'Mordor'",
    ),
    ("allocate-as-of", [*A, "--demand-t", "5", "--as-of", "yesterday"], "--as-of: 'yesterday'"),
    ("demo-as-of", ["demo", "--as-of", "June", "-o", "{ws}/demo"], "--as-of: 'June' is not a date"),
    (
        "compare-unknown-scenario",
        ["compare", "--scenario", "calm-seas", *P[1:]],
        "unknown scenario",
    ),
]

TARGETS = [
    ("paths-output-folder", [*P, "-o", "{ws}/adir.csv"], "adir.csv: is a folder"),
    (
        "paths-output-under-file",
        [*P, "-o", "{ws}/afile.txt/x.csv"],
        "afile.txt is a file, not a folder",
    ),
    ("paths-output-device", [*P, "-o", "{ws}/null.csv"], "null.csv: is not a regular file"),
    ("paths-output-read-only", [*P, "-o", "/sys/geosource-battery/x.csv"], "cannot write in /sys"),
    ("map-output-device", [*MAP[:-2], "-o", "{ws}/null.html"], "is not a regular file"),
    (
        "map-output-under-file",
        [*MAP[:-2], "-o", "{ws}/afile.txt/m.html"],
        "is a file, not a folder",
    ),
    (
        "map-output-read-only",
        [*MAP[:-2], "-o", "/sys/geosource-battery/m.html"],
        "cannot write in /sys",
    ),
    (
        "compare-output-device",
        ["compare", "--scenario", "red-sea-closure", *P[1:], "-o", "{ws}/null.csv"],
        "is not a regular file",
    ),
    (
        "compare-map-under-file",
        ["compare", "--scenario", "red-sea-closure", *P[1:], "--map", "{ws}/afile.txt/c.html"],
        "is a file",
    ),
    (
        "validate-output-device",
        ["layers", "validate", "{ws}/all_bad.csv", "-o", "{ws}/null.gpkg"],
        "is not a regular file",
    ),
    (
        "validate-output-folder",
        ["layers", "validate", "{ws}/all_bad.csv", "-o", "{ws}/adir.csv"],
        "is a folder",
    ),
    (
        "validate-output-read-only",
        ["layers", "validate", "{ws}/all_bad.csv", "-o", "/sys/x/y.gpkg"],
        "cannot write in /sys",
    ),
    (
        "report-output-file",
        ["report", "{ws}/good_report.toml", "-o", "{ws}/afile.txt"],
        "exists and is not a folder",
    ),
    (
        "report-output-device",
        ["report", "{ws}/good_report.toml", "-o", os.devnull],
        "exists and is not a folder",
    ),
    (
        "report-output-under-file",
        ["report", "{ws}/good_report.toml", "-o", "{ws}/afile.txt/r"],
        "is a file, not a folder",
    ),
    (
        "report-output-foreign",
        ["report", "{ws}/good_report.toml", "-o", "{ws}/foreign"],
        "holds files that no earlier geosource report wrote (e.g. notes.txt)",
    ),
    (
        "report-output-read-only",
        ["report", "{ws}/good_report.toml", "-o", "/sys/geosource-report"],
        "cannot write in /sys",
    ),
    (
        "report-output-root",
        ["report", "{ws}/good_report.toml", "-o", "/"],
        "give a folder of its own",
    ),
    (
        "sweep-output-file",
        ["sweep", "{ws}/good_sweep.toml", "-o", "{ws}/afile.txt"],
        "exists and is not a folder",
    ),
    (
        "sweep-output-device",
        ["sweep", "{ws}/good_sweep.toml", "-o", os.devnull],
        "exists and is not a folder",
    ),
    (
        "sweep-output-under-file",
        ["sweep", "{ws}/good_sweep.toml", "-o", "{ws}/afile.txt/s"],
        "is a file, not a folder",
    ),
    (
        "sweep-output-foreign",
        ["sweep", "{ws}/good_sweep.toml", "-o", "{ws}/foreign"],
        "no earlier geosource sweep wrote",
    ),
    (
        "sweep-output-read-only",
        ["sweep", "{ws}/good_sweep.toml", "-o", "/sys/geosource-sweep"],
        "cannot write in /sys",
    ),
    ("demo-output-file", ["demo", "-o", "{ws}/afile.txt"], "exists and is not a folder"),
    ("demo-output-under-file", ["demo", "-o", "{ws}/afile.txt/demo"], "is a file, not a folder"),
    ("demo-output-read-only", ["demo", "-o", "/sys/geosource-demo"], "cannot write in /sys"),
]


def _weights_case(name: str, text: str) -> tuple[str, list[str], str]:
    return (f"weights-{name}", [*P, "--weights", f"{{ws}}/{name}"], text)


CONFIGS = [
    _weights_case(
        "w_text.toml", "field `distance`: '0.4' is text, not a number — write 0.4 without quotes"
    ),
    _weights_case("w_bool.toml", "field `exposure`: True is true/false, not a number"),
    _weights_case("w_list.toml", "field `distance`: [0.4] is a list, not a number"),
    _weights_case("w_table.toml", "field `distance`: {'value': 0.4} is a table, not a number"),
    _weights_case("w_unknown.toml", "unknown weight 'distnace'; valid weights: distance, exposure"),
    _weights_case("w_negative.toml", "field `distance`: -1 is below the minimum 0"),
    _weights_case("w_inf.toml", "field `distance`: inf is not a finite number"),
    _weights_case("w_nan.toml", "field `exposure`: nan is not a finite number"),
    _weights_case("w_zero.toml", "`distance` and `exposure` cannot both be 0"),
    _weights_case("w_nested_text.toml", "field `weights.distance`: 'x' is text, not a number"),
    _weights_case("w_nested_extra.toml", "unknown key 'colour'"),
    _weights_case("w_scalar_table.toml", "field `weights`: 5 is a whole number, not a table"),
    _weights_case("w_bad.toml", "not valid TOML"),
    _weights_case("w_two.toml", "3 problems: field `distance`"),
    _weights_case("w_list.json", "expected a table of weights file keys, found a list"),
    _weights_case("w_bad.json", "not valid JSON"),
    _weights_case("w_duplicate.json", "duplicate key 'distance'"),
    _weights_case("w_deep.json", "nested too deeply"),
    _weights_case("w_bad.yaml", "not valid YAML"),
    _weights_case("w_duplicate.yaml", "duplicate key 'distance'"),
    _weights_case("w_python.yaml", "not valid YAML"),
    _weights_case("w_scalar.yaml", "found a single value 0.4"),
    _weights_case("w.ini", "unsupported weights file file type '.ini'"),
    _weights_case("w_latin1.toml", "is not UTF-8 text"),
    _weights_case("w_large.toml", "is too large for a weights file"),
    _weights_case("w_folder.toml", "is a folder, not a weights file"),
    *[
        (f"report-{name}", ["report", f"{{ws}}/{name}", "-o", "{ws}/rep"], text)
        for name, text in [
            (
                "r_k_text.toml",
                "field `k`: '5' is text, not a whole number — write 5 without quotes",
            ),
            ("r_k_bool.toml", "field `k`: True is true/false, not a whole number"),
            ("r_k_float.toml", "field `k`: 5.5 is a number, not a whole number"),
            ("r_k_zero.toml", "field `k`: 0 is below the minimum 1"),
            ("r_k_huge.toml", "is above the maximum 1,000,000"),
            ("r_title_list.toml", "field `title`: ['a', 'b'] is a list, not text"),
            ("r_buyers_number.toml", "field `buyers`: 356 is a whole number, not a list of text"),
            ("r_buyers_empty.toml", "field `buyers`: is empty"),
            ("r_minerals_numbers.toml", "field `minerals`: item 1, 1, is a whole number, not text"),
            ("r_minerals_bad.toml", "'unobtainium' is not a known mineral"),
            ("r_as_of_number.toml", "field `as_of`: 20250630 is a whole number, not a date"),
            ("r_as_of_text.toml", "'June' is not a date of the form YYYY-MM-DD"),
            (
                "r_dev_text.toml",
                "'false' is text, not true/false — write false without quotes",
            ),
            ("r_dev_number.toml", "field `include_development`: 1 is a whole number"),
            ("r_dev_status.toml", "'mothballed' is not a facility status"),
            ("r_weights_scalar.toml", "field `weights`: 0.4 is a number, not a table"),
            ("r_weights_text.toml", "field `weights.distance`: 'x' is text, not a number"),
            ("r_unknown.toml", "unknown report key 'colour'; valid keys: title, buyers"),
            (
                "r_scenarios_number.toml",
                "field `scenarios`: 5 is a whole number, not a list of text",
            ),
            ("r_scenario_unknown.toml", "unknown scenario 'no-such-what-if'"),
            ("r_scenario_file_bad.toml", "s_closed_number.toml: field `closed_passages`: 5"),
            ("r_many.toml", "3 problems"),
            ("r_bomb.yaml", "aliases (*b) are not allowed"),
            ("nope.toml", "report config not found"),
        ]
    ],
    *[
        (f"scenario-{name}", [*P, "--scenario", f"{{ws}}/{name}"], text)
        for name, text in [
            ("s_no_name.toml", "field `name`: missing"),
            ("s_name_list.toml", "field `name`: ['a'] is a list, not text"),
            ("s_name_empty.toml", "field `name`: is empty"),
            ("s_closed_number.toml", "field `closed_passages`: 5 is a whole number, not a list"),
            ("s_capacity_scalar.toml", "field `capacity`: 5 is a whole number, not a table"),
            (
                "s_capacity_text.toml",
                "field `capacity.li-greenbushes`: 'big' is text, not a number",
            ),
            (
                "s_capacity_negative.toml",
                "field `capacity.li-greenbushes`: -5 is below the minimum 0",
            ),
            ("s_measures_text.toml", "field `add_measures`: 'ban' is text, not a list"),
            (
                "s_measure_country.toml",
                "field `add_measures[0].country`: 'Atlantis' is not a country",
            ),
            ("s_measure_kind.toml", "'embargo' is not one of: ban, licence, quota"),
            ("s_measure_stage.toml", "'smelting' is not one of: mining, refining"),
            (
                "s_measure_unknown.toml",
                "unknown key 'severity' in add_measures[0]; valid keys: country",
            ),
            ("s_measure_mineral.toml", "'unobtainium' is not a known mineral"),
            ("s_measure_date.toml", "field `add_measures[0].effective`: 'soon' is not a date"),
            ("s_sanctioned.toml", "field `sanctioned`: 'Narnia' is not a country"),
            ("s_as_of.toml", "field `as_of`: 'June' is not a date"),
            ("s_weights.toml", "field `weights.distance`: 'a' is text"),
            ("s_unknown.toml", "unknown scenario key 'close'; valid keys: name"),
            ("s_offline_bool.toml", "field `offline`: True is true/false, not a list of text"),
            ("s_bomb.yaml", "aliases (*a) are not allowed in geosource config files"),
        ]
    ],
    *[
        (f"sweep-{name}", ["sweep", f"{{ws}}/{name}", "-o", "{ws}/sw"], text)
        for name, text in [
            (
                "sw_n_text.toml",
                "field `n`: '100' is text, not a whole number — write 100 without quotes",
            ),
            ("sw_n_bool.toml", "field `n`: True is true/false, not a whole number"),
            ("sw_n_float.toml", "field `n`: 1.5 is a number, not a whole number"),
            ("sw_n_huge.toml", "field `n`: 1,000,000,000,000 is above the maximum 1,000,000,000"),
            ("sw_n_zero.toml", "field `n`: 0 is below the minimum 1"),
            ("sw_seed_negative.toml", "field `seed`: -1 is below the minimum 0"),
            ("sw_seed_text.toml", "field `seed`: 'x' is text, not a whole number"),
            (
                "sw_mineral_list.toml",
                "field `mineral`: ['graphite', 'lithium'] is a list, not text",
            ),
            ("sw_mineral_bad.toml", "'graphyte' is not a known mineral. Did you mean 'graphite'?"),
            ("sw_to_number.toml", "field `to`: 392 is a whole number, not text"),
            ("sw_missing_to.toml", "field `to`: missing"),
            ("sw_unknown.toml", "unknown key 'draws'; valid keys: mineral, to, n"),
            ("sw_closures_scalar.toml", "field `closures`: 0.1 is a number, not a table"),
            ("sw_closures_text.toml", "field `closures.malacca`: '0.1' is text, not a number"),
            ("sw_closures_range.toml", "field `closures.malacca`: 1.5 is above the maximum 1"),
            ("sw_outages_negative.toml", "field `outages.gr-balama`: -0.1 is below the minimum 0"),
            ("sw_measures_unknown.toml", "'no-such-ban' is not a built-in scenario"),
            ("sw_executor.toml", "field `executor`: 'threads' is not one of: serial, dask"),
            ("sw_scheduler_number.toml", "field `scheduler`: 8786 is a whole number, not text"),
            ("sw_scheduler_port.toml", "is not a Dask scheduler address"),
            ("sw_demand_text.toml", "field `demand_t`: '8000' is text, not a number"),
            ("sw_demand_huge.toml", "field `demand_t`: 1e+30 is above the maximum"),
            ("sw_demand_zero.toml", "field `demand_t`: 0 must be above 0"),
            ("sw_dev_text.toml", "field `include_development`: 'false' is text, not true/false"),
            ("sw_threshold_text.toml", "field `score_threshold`: 'x' is text, not a number"),
            ("sw_as_of.toml", "field `as_of`: '2025-13-01' is not a date"),
            ("sw_empty.toml", "2 problems: field `mineral`: missing"),
            ("sw_bomb.yaml", "aliases (*c) are not allowed"),
            ("sw_list.json", "expected a table of sweep config keys, found a list"),
            ("sw_unreachable.toml", "cannot reach the Dask scheduler at tcp://127.0.0.1:1"),
        ]
    ],
    (
        "sweep-scheduler-unreachable-option",
        ["sweep", "{ws}/good_sweep.toml", "-o", "{ws}/sw", "--scheduler", "tcp://127.0.0.1:1"],
        "cannot reach the Dask scheduler at tcp://127.0.0.1:1 (connection refused)",
    ),
]

LAYERS = [
    *[
        (
            f"{geom}-{fmt}",
            ["layers", "validate", f"{{ws}}/{geom}.{fmt}", "--kind", "facilities"],
            f"{geom}.{fmt}, row 1, field `geometry`: "
            + ("is a 3D point" if geom == "pointz" else "is a "),
        )
        for geom in _GEOMETRIES
        for fmt in _FORMATS
    ],
    (
        "collection-geojson",
        ["layers", "validate", "{ws}/collection.geojson", "--kind", "facilities"],
        "is a GeometryCollection, not a point",
    ),
    (
        "skip-invalid-every-row-bad",
        ["layers", "validate", "{ws}/all_bad.csv", "--skip-invalid", "-o", "{ws}/kept.gpkg"],
        "no valid rows: every one of the 1 rows has a problem",
    ),
    (
        "skip-invalid-every-row-bad-no-output",
        ["layers", "validate", "{ws}/all_bad.csv", "--kind", "facilities", "--skip-invalid"],
        "no valid rows",
    ),
    (
        "one-bad-row",
        ["layers", "validate", "{ws}/all_bad.csv"],
        "row 1, field `country`: 'Atlantis'",
    ),
    ("not-found", ["layers", "validate", "{ws}/nope.csv"], "nope.csv: file not found"),
    (
        "unsupported-suffix",
        ["layers", "validate", "{ws}/mines.xlsx"],
        "unsupported file type '.xlsx'",
    ),
    (
        "malformed-csv",
        ["layers", "validate", "{ws}/broken.csv", "--kind", "facilities"],
        "is not a well-formed CSV",
    ),
    (
        "not-utf8",
        ["layers", "validate", "{ws}/latin1.csv", "--kind", "facilities"],
        "is not UTF-8 text",
    ),
    (
        "header-only",
        ["layers", "validate", "{ws}/header_only.csv", "--kind", "facilities"],
        "the file has no rows",
    ),
    (
        "missing-column",
        ["layers", "validate", "{ws}/missing_lat.csv", "--kind", "facilities"],
        "field `lat`: missing column",
    ),
]

CASES = USAGE + REPEATS + VALUES + TARGETS + CONFIGS + LAYERS


def test_the_battery_is_large_and_named_once():
    ids = [case[0] for case in CASES]
    assert len(ids) >= 150
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize(("case", "args", "text"), CASES, ids=[c[0] for c in CASES])
def test_bad_invocation(case, args, text, ws, capsys, monkeypatch):
    monkeypatch.chdir(ws)
    argv = [a.replace("{ws}", str(ws)) for a in args]
    code = run(argv)
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert code == 2, f"{case}: exit {code}\n{captured.err}"
    assert "Traceback" not in captured.err + captured.out
    assert len(lines) == 1, f"{case}: {len(lines)} lines on stderr:\n{captured.err}"
    assert lines[0].startswith("error: ")
    assert text.replace("{ws}", str(ws)) in lines[0], f"{case}: {lines[0]}"


def test_nothing_was_written(ws):
    """Refused commands leave no output and no temporary files behind."""
    for name in ("out.html", "a.csv", "b.csv", "rep", "sw", "kept.gpkg", "demo", "x.xlsx"):
        assert not (ws / name).exists(), name
    assert not [p for p in ws.rglob("*") if ".geosource-tmp-" in p.name]
    assert (ws / "foreign" / "notes.txt").read_text(encoding="utf-8") == "someone's notes\n"
    assert not Path("/sys/geosource-report").exists()


def test_yaml_alias_bomb_is_refused_quickly(ws):
    """498 bytes of aliases would expand to gigabytes; refusing them takes no time or memory."""
    import time

    from geosource._files import read_table

    text = (ws / "s_bomb.yaml").read_text(encoding="utf-8")
    assert len(text.encode()) < 600
    t0 = time.perf_counter()
    with pytest.raises(ValueError, match=r"aliases \(\*a\) are not allowed"):
        read_table(ws / "s_bomb.yaml", "scenario file")
    assert time.perf_counter() - t0 < 1.0


def test_config_errors_collect_every_problem(ws):
    from geosource._config import read_config

    with pytest.raises(ValueError, match="3 problems") as info:
        read_config(ws / "r_many.toml", "report")
    message = str(info.value)
    assert "\n" not in message
    for field in ("`title`", "`k`", "`include_development`"):
        assert field in message


@pytest.mark.slow
def test_all_dask_workers_lost(ws, monkeypatch, capsys):
    """A scheduler whose workers are all gone: a clear error within seconds, not a hang."""
    from distributed import LocalCluster

    import geosource.sweeps as sweeps

    monkeypatch.setattr(sweeps, "_NO_WORKERS_S", 1.0)
    with LocalCluster(
        n_workers=0, processes=False, protocol="tcp", dashboard_address=":0", silence_logs=50
    ) as cluster:
        address = cluster.scheduler_address
        cfg = ws / "lost.toml"
        cfg.write_text(
            _G + "n = 20\n[closures]\nmalacca = 0.5\n",
            encoding="utf-8",
        )
        code = run(["sweep", str(cfg), "-o", str(ws / "lost"), "--scheduler", address])
    captured = capsys.readouterr()
    assert code == 2, captured.err
    assert "has had no workers" in captured.err
    assert captured.err.count("\n") == 1
    assert not (ws / "lost").exists()


@pytest.mark.slow
def test_dask_workers_lost_mid_run(ws, monkeypatch, capsys):
    """The only worker goes away while it evaluates draws: one clear line, no hang."""
    import time

    from distributed import LocalCluster, get_worker

    import geosource.sweeps as sweeps

    def worker_leaves(G, lay, task, args):
        worker = get_worker()
        worker.loop.add_callback(worker.close)
        time.sleep(2)

    monkeypatch.setattr(sweeps, "_NO_WORKERS_S", 1.0)
    monkeypatch.setattr(sweeps, "_evaluate_combo", worker_leaves)
    with LocalCluster(
        n_workers=1,
        threads_per_worker=1,
        processes=False,
        protocol="tcp",
        dashboard_address=":0",
        silence_logs=50,
    ) as cluster:
        cfg = ws / "leaving.toml"
        cfg.write_text(
            _G + "n = 20\n[closures]\nmalacca = 0.5\n",
            encoding="utf-8",
        )
        args = ["sweep", str(cfg), "-o", str(ws / "leaving"), "--scheduler"]
        code = run([*args, cluster.scheduler_address])
    captured = capsys.readouterr()
    assert code == 2, captured.err
    assert "Dask workers were lost mid-run" in captured.err
    assert captured.err.count("\n") == 1
    assert not (ws / "leaving").exists()


def test_good_configs_still_run(ws, tmp_path, capsys):
    """The good configs of the battery are good: the refusals above are about the bad parts."""
    out = tmp_path / "sweep"
    assert run(["sweep", str(ws / "good_sweep.toml"), "-o", str(out)]) == 0
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["config"] == {"mineral": "graphite", "to": "JPN", "n": 10}
    assert set(manifest["files"]) == {p.name for p in out.iterdir()} - {"manifest.json"}
    capsys.readouterr()
    shutil.rmtree(out)

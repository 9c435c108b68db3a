"""Nothing half-written: every output goes to a temporary name beside its target and is renamed
into place; a report or sweep folder is built beside the old one, its manifest written last, and
swapped in whole. The kill tests SIGKILL real runs at seeded random moments and find only the
previous complete output or the new complete output, never a mix.

The small configs here are SYNTHETIC test inputs over the bundled layers.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import matplotlib.figure
import pandas as pd
import pyogrio
import pytest
import rasterio
import shapely

import geosource as gs
from geosource._files import (
    atomic_folder,
    atomic_path,
    check_output_file,
    check_output_folder,
)
from geosource.cli import run

ROOT = Path(__file__).parents[1]


def _state(folder: Path) -> str | None:
    """The config a complete output folder was written from (as JSON text), or None when the
    folder is missing, has no manifest, or holds files its manifest does not list or whose
    checksums differ: an incomplete or mixed folder."""
    manifest_path = folder / "manifest.json"
    if not manifest_path.is_file():
        return None
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except ValueError:
        return None
    files = {
        str(p.relative_to(folder))
        for p in folder.rglob("*")
        if p.is_file() and p.name != "manifest.json"
    }
    if files != set(manifest["files"]):
        return None
    for name, digest in manifest["files"].items():
        if hashlib.sha256((folder / name).read_bytes()).hexdigest() != digest:
            return None
    return json.dumps(manifest["config"], sort_keys=True)


def _leftovers(folder: Path) -> list[Path]:
    return [p for p in folder.parent.iterdir() if ".geosource-tmp-" in p.name]


# ---------------------------------------------------------------------------------------------
# the helpers


def test_atomic_path_keeps_the_old_file_when_the_writer_fails(tmp_path):
    target = tmp_path / "table.csv"
    target.write_text("old\n", encoding="utf-8")

    def interrupted_write() -> None:
        with atomic_path(target) as tmp:
            tmp.write_text("half of the ne", encoding="utf-8")
            raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError, match="disk on fire"):
        interrupted_write()
    assert target.read_text(encoding="utf-8") == "old\n"
    assert _leftovers(target) == []


def test_atomic_path_replaces_in_one_step(tmp_path):
    target = tmp_path / "sub" / "table.csv"
    with atomic_path(target) as tmp:
        assert tmp.parent.parent == target.parent and tmp.name == target.name
        assert not target.exists()
        tmp.write_text("new\n", encoding="utf-8")
    assert target.read_text(encoding="utf-8") == "new\n"
    assert _leftovers(target) == []


def test_atomic_writes_keep_format_content(tmp_path):
    """A GeoPackage layer and a GeoJSON name come from the file name: the temporary file has
    the same name, so the output equals a direct write byte for byte."""
    gdf = gpd.GeoDataFrame(  # SYNTHETIC points
        {"id": ["a", "b"], "value": [1.5, 2.0]},
        geometry=[shapely.Point(1, 2), shapely.Point(3, 4)],
        crs="EPSG:4326",
    )
    for suffix in (".gpkg", ".geojson", ".parquet"):
        direct = tmp_path / "direct" / f"options{suffix}"
        direct.parent.mkdir(exist_ok=True)
        gs.write_layer(gdf, direct)
        target = tmp_path / f"options{suffix}"
        with atomic_path(target) as tmp:
            gs.write_layer(gdf, tmp)
        assert target.read_bytes() == direct.read_bytes(), suffix


def test_atomic_path_moves_shapefile_sidecars(tmp_path):
    gdf = gpd.GeoDataFrame(  # SYNTHETIC points
        {"id": ["a"]}, geometry=[shapely.Point(1, 2)], crs="EPSG:4326"
    )
    target = tmp_path / "points.shp"
    with atomic_path(target) as tmp:
        gdf.to_file(tmp)
    assert {p.suffix for p in tmp_path.iterdir()} >= {".shp", ".shx", ".dbf", ".prj"}
    assert list(gpd.read_file(target)["id"]) == ["a"]


def test_atomic_folder_swaps_whole_or_not_at_all(tmp_path):
    out = tmp_path / "report"
    out.mkdir()
    (out / "old.txt").write_text("old", encoding="utf-8")

    def interrupted_build() -> None:
        with atomic_folder(out) as stage:
            (stage / "new.txt").write_text("new", encoding="utf-8")
            raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError, match="interrupted"):
        interrupted_build()
    assert [p.name for p in out.iterdir()] == ["old.txt"]
    with atomic_folder(out) as stage:
        (stage / "new.txt").write_text("new", encoding="utf-8")
    assert [p.name for p in out.iterdir()] == ["new.txt"]
    assert _leftovers(out) == []


def test_stale_temporary_folders_of_killed_runs_are_removed(tmp_path):
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    pid = int(dead.stdout)
    stale = tmp_path / f".report.geosource-tmp-{pid}-0a1b2c3d"
    stale.mkdir()
    (stale / "index.html").write_text("half", encoding="utf-8")
    live = tmp_path / f".report.geosource-tmp-{os.getpid()}-0a1b2c3d"
    live.mkdir()
    with atomic_path(tmp_path / "x.csv") as tmp:
        tmp.write_text("x\n", encoding="utf-8")
    assert not stale.exists(), "a dead run's leftovers are cleaned up"
    assert live.exists(), "a running process's folder is left alone"


def test_output_checks(tmp_path):
    (tmp_path / "file.txt").write_text("x", encoding="utf-8")
    with pytest.raises(ValueError, match="is a file, not a folder"):
        check_output_file(tmp_path / "file.txt" / "out.csv", (".csv",))
    with pytest.raises(ValueError, match="is a folder"):
        check_output_file(tmp_path)
    with pytest.raises(ValueError, match="is not a regular file"):
        check_output_file(os.devnull)
    with pytest.raises(ValueError, match="exists and is not a folder"):
        check_output_folder(tmp_path / "file.txt")
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("years of work", encoding="utf-8")
    with pytest.raises(ValueError, match=r"no earlier geosource report wrote \(e.g. thesis.tex\)"):
        check_output_folder(foreign)
    check_output_folder(foreign, replace=False)  # adding files is fine
    assert check_output_folder(tmp_path / "new" / "deeper") == tmp_path / "new" / "deeper"


def test_a_report_folder_with_extra_files_is_refused_not_wiped(tmp_path, G, layers):
    cfg = {"buyers": ["JPN"], "minerals": ["germanium"], "as_of": ["2025-06-30"], "k": 1}
    out = tmp_path / "report"
    gs.build_report(cfg, out, G=G, layers=layers)
    assert _state(out) is not None
    (out / "my notes.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(ValueError, match=r"my notes\.txt"):
        gs.build_report(cfg, out, G=G, layers=layers)
    assert (out / "my notes.txt").read_text(encoding="utf-8") == "keep me"
    (out / "my notes.txt").unlink()
    gs.build_report({**cfg, "k": 2}, out, G=G, layers=layers)
    assert json.loads(_state(out) or "{}")["k"] == 2


def test_cli_outputs_are_written_atomically(tmp_path, capsys, monkeypatch):
    """A failing writer leaves the previous results in place (here: the disk is full)."""
    out = tmp_path / "li.csv"
    out.write_text("previous results\n", encoding="utf-8")
    args = ["paths", "-m", "lithium", "-t", "IND", "--k", "2", "--as-of", "2025-06-30"]

    def broken_to_csv(self, path, *a, **k):
        Path(path).write_text("half a tab", encoding="utf-8")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_csv", broken_to_csv)
    assert run([*args, "-o", str(out)]) == 1
    assert "no space left on device" in capsys.readouterr().err
    assert out.read_text(encoding="utf-8") == "previous results\n"
    assert _leftovers(out) == []
    monkeypatch.undo()
    assert run([*args, "-o", str(out)]) == 0
    assert len(pd.read_csv(out)) == 2


# ---------------------------------------------------------------------------------------------
# every library writer: a failure midway keeps the old file, a success is the same bytes each time


def _points() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(  # SYNTHETIC points
        {"id": ["a", "b"], "name": ["Site A", "Site B"], "value": [1.5, 2.0]},
        geometry=[shapely.Point(1, 2), shapely.Point(3, 4)],
        crs="EPSG:4326",
    )


def _half_then_full(path_of: Callable[[tuple[Any, ...]], Any]) -> Callable[..., Any]:
    """A writer that puts half a file at the path it is given, then finds the disk full."""

    def broken(*args: Any, **kwargs: Any) -> Any:
        Path(path_of(args)).write_bytes(b"half of the new fi")
        raise OSError(errno.ENOSPC, "No space left on device")

    return broken


def _paths_for_maps(G: Any) -> gpd.GeoDataFrame:
    return gs.sourcing_paths(G, "germanium", "JPN", k=3, as_of="2025-06-30")


#: (writer name, file name, what to patch (object, attribute), where the patched call's path is,
#: the call that writes ``path`` given the session graph and layers)
WRITERS: list[tuple[str, str, tuple[Any, str], Callable[..., Any], Callable[..., Any]]] = [
    (
        "write_layer csv",
        "points.csv",
        (pd.DataFrame, "to_csv"),
        lambda a: a[1],
        lambda path, G, layers: gs.write_layer(_points(), path),
    ),
    (
        "write_layer parquet",
        "points.parquet",
        (gpd.GeoDataFrame, "to_parquet"),
        lambda a: a[1],
        lambda path, G, layers: gs.write_layer(_points(), path),
    ),
    (
        "write_layer gpkg",
        "points.gpkg",
        (pyogrio, "write_dataframe"),
        lambda a: a[1],
        lambda path, G, layers: gs.write_layer(_points(), path),
    ),
    (
        "write_layer geojson",
        "points.geojson",
        (pyogrio, "write_dataframe"),
        lambda a: a[1],
        lambda path, G, layers: gs.write_layer(_points(), path),
    ),
    (
        "write_layer shp",
        "points.shp",
        (pyogrio, "write_dataframe"),
        lambda a: a[1],
        lambda path, G, layers: gs.write_layer(_points(), path),
    ),
    (
        "save_graph",
        "graph.gpkg",
        (pyogrio, "write_dataframe"),
        lambda a: a[1],
        lambda path, G, layers: gs.save_graph(G, path),
    ),
    (
        "save_map_png",
        "map.png",
        (matplotlib.figure.Figure, "savefig"),
        lambda a: a[1],
        lambda path, G, layers: gs.save_map_png(_paths_for_maps(G), layers, path),
    ),
    (
        "pareto_chart",
        "pareto.png",
        (matplotlib.figure.Figure, "savefig"),
        lambda a: a[1],
        lambda path, G, layers: gs.pareto_chart(_paths_for_maps(G), path),
    ),
    (
        "opportunity_surface",
        "surface.tif",
        (rasterio, "open"),
        lambda a: a[0],
        lambda path, G, layers: gs.opportunity_surface(
            G, mineral="lithium", to="USA", resolution_deg=2.0, out=path
        ),
    ),
    (
        "Scenario.write",
        "scenario.json",
        (Path, "write_text"),
        lambda a: a[0],
        lambda path, G, layers: gs.Scenario(name="closure", closed_passages=("suez",)).write(path),
    ),
]


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.mark.parametrize(
    ("name", "file", "patch", "path_of", "write"), WRITERS, ids=[w[0] for w in WRITERS]
)
def test_every_writer_keeps_the_old_file_when_it_fails_midway(
    tmp_path, monkeypatch, G, layers, name, file, patch, path_of, write
):
    """The writer underneath (pandas, pyogrio, matplotlib, rasterio, pathlib) writes half a
    file and raises: the previous file and its sidecars are untouched and no temporary file is
    left beside them."""
    target = tmp_path / file
    write(target, G, layers)
    before = _files(tmp_path)
    assert target.name in before
    monkeypatch.setattr(*patch, _half_then_full(path_of))
    with pytest.raises(OSError, match="No space left on device"):
        write(target, G, layers)
    monkeypatch.undo()
    assert _files(tmp_path) == before, name
    assert _leftovers(target) == []


@pytest.mark.parametrize(
    ("name", "file", "patch", "path_of", "write"), WRITERS, ids=[w[0] for w in WRITERS]
)
def test_every_writer_gives_the_same_bytes_each_time(
    tmp_path, G, layers, name, file, patch, path_of, write
):
    """Written twice (once over the first file, once in a new folder), the files are equal
    byte for byte, sidecars included."""
    first, second = tmp_path / "first", tmp_path / "second"
    write(first / file, G, layers)
    once = _files(first)
    write(first / file, G, layers)
    write(second / file, G, layers)
    assert _files(first) == once, f"{name}: writing over the file changed it"
    assert _files(second) == once, f"{name}: a second run wrote other bytes"
    assert _leftovers(first / file) == []


def test_write_layer_removes_sidecars_of_an_earlier_shapefile(tmp_path):
    """A Shapefile written over another keeps no sidecar the new write did not make: here the
    new points have no CRS, so the old ``.prj`` goes."""
    target = tmp_path / "points.shp"
    gs.write_layer(_points(), target)
    assert target.with_suffix(".prj").exists()
    with pytest.warns(UserWarning, match="'crs' was not provided"):
        gs.write_layer(_points().set_crs(None, allow_override=True), target)
    assert not target.with_suffix(".prj").exists()
    back = gpd.read_file(target)
    assert back.crs is None and list(back["id"]) == ["a", "b"]
    assert _leftovers(target) == []


# ---------------------------------------------------------------------------------------------
# kill tests: SIGKILL real runs at random moments


def _spawn(args: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "geosource.cli", *args],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _kill_at(args: list[str], seconds: float) -> None:
    proc = _spawn(args)
    deadline = time.monotonic() + seconds
    while proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.wait()


def _kill_at_swap(args: list[str], out: Path) -> None:
    """Kill as soon as the staged folder holds its manifest: the moment of the swap."""
    proc = _spawn(args)
    while proc.poll() is None:
        if any((p / "manifest.json").exists() for p in _leftovers(out)):
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.002)
    proc.wait()


def _timed(args: list[str]) -> float:
    t0 = time.perf_counter()
    proc = _spawn(args)
    assert proc.wait() == 0, args
    return time.perf_counter() - t0


def _kill_points(seed: int, duration: float, n: int) -> list[float]:
    """``n`` seeded moments over a run (a little past its measured end, as runs vary)."""
    rng = random.Random(seed)
    return [rng.uniform(0.05, 1.1) * duration for _ in range(n)]


@pytest.mark.slow
def test_killed_report_leaves_old_or_new_never_a_mix(tmp_path, G, layers):
    out = tmp_path / "report"
    old_cfg = {"buyers": ["JPN"], "minerals": ["germanium"], "as_of": ["2025-06-30"], "k": 1}
    # a new report with maps, charts, a scenario and a world allocation (the example report's
    # parts, fewer minerals, so that each killed run is seconds, not a minute)
    new_cfg = tmp_path / "new.toml"
    new_cfg.write_text(
        'title = "Kill test"\nbuyers = ["IND", "USA"]\nminerals = ["rare_earths", "gallium"]\n'
        'as_of = ["2026-12-03"]\nscenarios = ["red-sea-closure"]\n'
        'world = ["china-ree-export-ban"]\nk = 3\n',
        encoding="utf-8",
    )
    args = ["report", str(new_cfg), "-o", str(out)]

    duration = _timed(args)  # a complete new run: the state every finished run leaves
    new = _state(out)
    assert new is not None
    gs.build_report(old_cfg, out, G=G, layers=layers)
    old = _state(out)
    assert old is not None and old != new

    for point in [*_kill_points(2026, duration, 2), None]:
        gs.build_report(old_cfg, out, G=G, layers=layers)  # back to the old report
        assert _state(out) == old
        if point is None:
            _kill_at_swap(args, out)
        else:
            _kill_at(args, point)
        state = _state(out)
        assert state in (old, new), f"killed at {point}: a mixed or incomplete report folder"
    gs.build_report(old_cfg, out, G=G, layers=layers)
    assert _leftovers(out) == [], "leftovers of killed runs are removed by the next run"


@pytest.mark.slow
def test_killed_sweep_leaves_old_or_new_never_a_mix(tmp_path, capsys):
    out = tmp_path / "sweep"
    old_cfg, new_cfg = tmp_path / "old.toml", tmp_path / "new.toml"
    base = 'mineral = "graphite"\nto = "JPN"\nas_of = "2025-06-30"\n'
    old_cfg.write_text(base + "n = 50\nseed = 1\n", encoding="utf-8")
    new_cfg.write_text(
        base + "n = 20000\nseed = 2\n[closures]\nmalacca = 0.2\nsuez = 0.1\n"
        '[outages]\n"gr-balama" = 0.3\n',
        encoding="utf-8",
    )
    args = ["sweep", str(new_cfg), "-o", str(out)]

    duration = _timed(args)
    new = _state(out)
    assert new is not None
    assert run(["sweep", str(old_cfg), "-o", str(out)]) == 0
    old = _state(out)
    assert old is not None and old != new

    for point in [*_kill_points(8786, duration, 4), None]:
        assert run(["sweep", str(old_cfg), "-o", str(out)]) == 0
        if point is None:
            _kill_at_swap(args, out)
        else:
            _kill_at(args, point)
        assert _state(out) in (old, new), f"killed at {point}: a mixed or incomplete sweep"
    assert run(["sweep", str(old_cfg), "-o", str(out)]) == 0
    assert _leftovers(out) == []
    capsys.readouterr()

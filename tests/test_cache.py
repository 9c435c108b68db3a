"""The disk cache of layers and route graphs: hits, misses on any change, corrupt entries,
unwritable folders, bounds, concurrent writers, the `cache` commands, and results that do not
depend on whether the graph came from the cache."""

from __future__ import annotations

import logging
import os
import pickle
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import geosource as gs
from geosource import _cache, routing
from geosource.cli import run
from geosource.layers import bundled_layers_dir

LOG = "geosource._cache"


def _events(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The cache's log lines, each cut to its first words ('cache hit', 'cache miss', ...)."""
    return [" ".join(r.getMessage().split()[:2]) for r in caplog.records if r.name == LOG]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "cache"


@pytest.fixture
def layers_copy(tmp_path: Path) -> Path:
    """A copy of the bundled layers to edit (the real, cited files, unchanged until a test
    edits its copy)."""
    out = tmp_path / "layers"
    shutil.copytree(bundled_layers_dir(), out, ignore=shutil.ignore_patterns("scripts", "*.md"))
    return out


def test_second_call_hits_the_cache(folder, caplog):
    caplog.set_level(logging.DEBUG, logger=LOG)
    first = _cache.cached_layers(folder=folder)
    assert _events(caplog) == ["cache miss:", "cache write:"]
    (entry,) = _cache.cache_entries(folder)
    assert entry.kind == "layers" and entry.size > 100_000
    stored = entry.path.read_bytes()
    caplog.clear()
    again = _cache.cached_layers(folder=folder)
    assert _events(caplog) == ["cache hit:"]
    assert entry.path.read_bytes() == stored  # read, not written again
    for name, frame in first:
        assert frame.equals(again[name]), name
        assert frame.attrs == again[name].attrs
    assert again.facilities.crs == first.facilities.crs


def test_graph_hit_brings_its_compiled_engine(folder, caplog):
    G = _cache.cached_graph(folder=folder)
    assert sorted(e.kind for e in _cache.cache_entries(folder)) == ["graph", "layers"]
    caplog.set_level(logging.DEBUG, logger=LOG)
    H = _cache.cached_graph(folder=folder)
    assert _events(caplog) == ["cache hit:"]
    assert routing.cache_info(H) == {"compiled": True, "masks": 0, "matrices": 0}
    assert list(H.nodes) == list(G.nodes)
    assert list(H.edges(keys=True, data="length_km")) == list(G.edges(keys=True, data="length_km"))
    assert isinstance(H.graph["layers"], gs.Layers)
    a = gs.shortest_path(G, "port:CNSHA", "port:NLRTM")
    b = gs.shortest_path(H, "port:CNSHA", "port:NLRTM")
    assert a.length_km == b.length_km and a.nodes == b.nodes


def test_an_edited_layer_file_misses(folder, layers_copy, caplog):
    _cache.cached_layers(layers_copy, folder=folder)
    key = _cache.layers_key(layers_copy)
    path = layers_copy / "facilities.csv"
    text = path.read_text(encoding="utf-8")
    assert text.count("Greenbushes") >= 1
    path.write_text(text.replace("Greenbushes", "Greenbushes (edited)"), encoding="utf-8")
    assert _cache.layers_key(layers_copy) != key
    caplog.set_level(logging.DEBUG, logger=LOG)
    edited = _cache.cached_layers(layers_copy, folder=folder)
    assert _events(caplog) == ["cache miss:", "cache write:"]
    assert edited.facilities["name"].str.contains("Greenbushes (edited)", regex=False).any()
    assert len(_cache.cache_entries(folder)) == 2  # the old entry stays until pruned


def test_every_layer_file_and_option_is_in_the_key(layers_copy):
    base = _cache.graph_key(layers_copy)
    keys = {base}
    for path in sorted(layers_copy.iterdir()):
        original = path.read_bytes()
        path.write_bytes(original + b"\n")
        keys.add(_cache.graph_key(layers_copy))
        path.write_bytes(original)
    assert _cache.graph_key(layers_copy) == base
    assert len(keys) == 1 + len(list(layers_copy.iterdir()))  # boundaries.gpkg and 11 CSVs
    for options in (
        gs.NetworkOptions(air=False),
        gs.NetworkOptions(max_land_km=2000.0),
        gs.NetworkOptions(closed_passages=("northwest", "suez")),
    ):
        keys.add(_cache.graph_key(layers_copy, options))
    assert len(keys) == 4 + len(list(layers_copy.iterdir()))
    assert _cache.graph_key(layers_copy, gs.NetworkOptions()) == base


@pytest.mark.parametrize(
    "damage",
    [b"", b"not a pickle at all", "truncated", "another key"],
    ids=["empty", "garbage", "truncated", "another-key"],
)
def test_a_corrupt_entry_is_rebuilt(folder, caplog, damage):
    _cache.cached_layers(folder=folder)
    (entry,) = _cache.cache_entries(folder)
    good = entry.path.read_bytes()
    if damage == "truncated":
        entry.path.write_bytes(good[: len(good) // 2])
    elif damage == "another key":
        entry.path.write_bytes(pickle.dumps((_cache.CACHE_FORMAT, "0" * 64, gs.Layers)))
    else:
        entry.path.write_bytes(damage)
    caplog.set_level(logging.DEBUG, logger=LOG)
    layers = _cache.cached_layers(folder=folder)
    assert _events(caplog)[-1] == "cache write:"
    assert "cache hit:" not in _events(caplog)
    assert len(layers.facilities) == len(gs.load_layers().facilities)
    assert entry.path.read_bytes() == good  # rebuilt: the same bytes as the first write
    caplog.clear()
    _cache.cached_layers(folder=folder)
    assert _events(caplog) == ["cache hit:"]


def test_an_unwritable_folder_means_no_cache(tmp_path, caplog):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    folder = blocker / "cache"  # cannot be created: its parent is a file
    caplog.set_level(logging.DEBUG, logger=LOG)
    layers = _cache.cached_layers(folder=folder)
    assert len(layers.facilities) > 0
    assert _events(caplog) == ["cache miss:", "no cache"]
    assert not folder.exists()
    assert _cache.cache_entries(folder) == []


def test_the_cache_keeps_the_newest_entries(folder, monkeypatch):
    monkeypatch.setattr(_cache, "MAX_ENTRIES", 1)
    _cache.cached_graph(folder=folder)  # writes layers, then the graph
    assert [e.kind for e in _cache.cache_entries(folder)] == ["graph"]


def test_two_processes_writing_at_once(folder):
    code = textwrap.dedent(
        f"""
        from geosource import _cache
        layers = _cache.cached_layers(folder={str(folder)!r})
        print(len(layers.facilities))
        """
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=300)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    n = len(gs.load_layers().facilities)
    assert outs == [f"{n}\n", f"{n}\n"]
    (entry,) = _cache.cache_entries(folder)
    assert sorted(p.name for p in folder.iterdir()) == [entry.path.name]  # no temporary left
    assert len(_cache.cached_layers(folder=folder).facilities) == n


# ---------------------------------------------------------------------------------------------
# the command line


def _paths_csv(out: Path, *extra: str) -> bytes:
    args = ["paths", "-m", "lithium", "--to", "IND", "--as-of", "2026-12-04", "-o", str(out)]
    assert run([*args, *extra]) == 0
    return out.read_bytes()


def test_cached_graph_gives_the_same_paths_as_a_fresh_one(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("GEOSOURCE_CACHE_DIR", str(tmp_path / "cache"))
    caplog.set_level(logging.DEBUG, logger=LOG)
    fresh = _paths_csv(tmp_path / "fresh.csv", "--no-cache")
    assert _events(caplog) == []
    assert not (tmp_path / "cache").exists()  # --no-cache neither reads nor writes
    built = _paths_csv(tmp_path / "built.csv")
    assert "cache write:" in _events(caplog)
    caplog.clear()
    cached = _paths_csv(tmp_path / "cached.csv")
    assert _events(caplog) == ["cache hit:"]  # the graph, its layers inside
    assert fresh == built == cached
    assert fresh.count(b"\n") == 6  # header and five options


def test_cache_info_and_clear(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "cache"
    monkeypatch.setenv("GEOSOURCE_CACHE_DIR", str(folder))
    assert run(["cache", "info"]) == 0
    assert capsys.readouterr().out.splitlines() == [f"cache folder: {folder}", "0 entries, 0 B"]
    assert run(["layers", "show", "chokepoints"]) == 0
    (entry,) = _cache.cache_entries()
    capsys.readouterr()
    assert run(["cache", "info"]) == 0
    out = capsys.readouterr().out.splitlines()
    mb = f"{entry.size / 1e6:.1f} MB"
    assert out[1].split()[:3] == [entry.path.name, "layers", mb.split()[0]]
    assert out[-1] == f"1 entries, {mb}"
    (folder / "notes.txt").write_text("kept", encoding="utf-8")
    assert run(["cache", "clear"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"removed {entry.path} ({mb})",
        f"removed 1 entries, {mb}, from {folder}",
    ]
    assert _cache.cache_entries() == []
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]


BAD = [
    (["paths", "-m", "lithum", "--to", "IND"], "--mineral: 'lithum' is not a known mineral"),
    (["paths", "-m", "lithium", "--to", "INDD"], "--to: 'INDD' is not a country"),
    (["paths", "-m", "lithium", "--to", "IND", "-o", "x.txt"], "cannot write results 'x.txt'"),
    (["map", "-m", "lithium", "--to", "Indai", "-o", "m.html"], "--to: 'Indai' is not a country"),
    (["map", "-m", "lithium", "--to", "IND", "-o", "m.png"], "cannot write map 'm.png'"),
    (
        ["compare", "--scenario", "red-sea-closure", "-m", "lithium", "--to", "XX"],
        "--to: 'XX' is not a country",
    ),
    (
        ["allocate", "-m", "lithium", "--to", "INDD", "--demand-t", "100"],
        "--to: 'INDD' is not a country",
    ),
    (["allocate", "-m", "lithium", "--world", "-o", "w.txt"], "cannot write output 'w.txt'"),
    (
        ["invest", "-m", "rare_earths", "--candidates", "africa", "--buyers", "IND,Indai"],
        "--buyers: 'Indai' is not a country",
    ),
    (["layers", "show", "facilities", "--mineral", "lithum"], "'lithum' is not a known mineral"),
]


@pytest.mark.parametrize(("args", "message"), BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_arguments_fail_before_any_loading(args, message, tmp_path, monkeypatch, capsys):
    def refuse(*_args, **_kwargs):
        raise AssertionError("layers loaded before the arguments were checked")

    import geosource.cli as cli

    for name in ("load_layers", "cached_layers", "cached_graph", "graph_from_layers"):
        monkeypatch.setattr(cli, name, refuse)
    monkeypatch.chdir(tmp_path)
    assert run(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ")
    assert message in err


def test_no_cache_flag_on_every_loading_command(capsys):
    for command in (
        ["paths"],
        ["map"],
        ["compare"],
        ["allocate"],
        ["invest"],
        ["sweep"],
        ["report"],
        ["demo"],
        ["layers", "list"],
        ["layers", "show"],
    ):
        assert run([*command, "--help"]) == 0
        assert "--no-cache" in capsys.readouterr().out, command


def test_the_suite_never_uses_the_users_cache():
    assert Path(os.environ["GEOSOURCE_CACHE_DIR"]) == _cache.cache_dir()
    import platformdirs

    assert _cache.cache_dir() != Path(platformdirs.user_cache_dir("geosource"))

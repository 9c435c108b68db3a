"""A disk cache of the validated layers and the built route graph, so that a command does not
spend seconds reading, validating and building what the last one already built.

Entries live in the user's cache folder (``platformdirs.user_cache_dir("geosource")``, or the
folder ``GEOSOURCE_CACHE_DIR`` names), one file per entry:

- ``layers-<key>.pickle``: the :class:`~geosource.layers.Layers` :func:`load_layers` returns;
- ``graph-<key>.pickle``: the route graph of :func:`graph_from_layers` (its layers inside, in
  ``G.graph["layers"]``) and its compiled routing engine.

The key is a sha256 over the cache format, the versions of geosource (and the sha256 of its
modules, so that an edited checkout misses too), Python and the libraries whose objects are
stored, the layers folder, the sha256 of every layer file read and of the
searoute data the graph is built from, and for a graph the :class:`NetworkOptions` (with the
sha256 of a friction raster). Any change to a layer file or an option misses the cache.

Entries are Python pickles. Reading a pickle runs code, so an entry is only as trustworthy as
the folder it sits in: this is a local cache that the user owns, never a file to share or
download. The folder is created private (mode 0700) and an entry owned by another user is
ignored.

Nothing here ever fails a command: an entry that cannot be read (truncated, corrupt, written by
another version) is removed and rebuilt; a folder that cannot be written means no cache, with a
debug log line. Writes go to a temporary file in the cache folder that is renamed into place
(:func:`geosource._files.atomic_path`), so two processes running at once each see a whole entry
or none. The newest :data:`MAX_ENTRIES` entries are kept.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import hashlib
import importlib.metadata
import importlib.resources
import logging
import os
import pickle
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx

from ._engine import Engine, adopt, engine_for
from ._files import atomic_path
from ._files import sha256 as file_sha256
from ._version import __version__
from .layers import Layers, bundled_layers_dir, layer_files, load_layers
from .network import NetworkOptions, graph_from_layers

__all__ = [
    "CACHE_FORMAT",
    "MAX_ENTRIES",
    "CacheEntry",
    "cache_dir",
    "cache_entries",
    "cached_graph",
    "cached_layers",
    "clear_cache",
    "graph_key",
    "layers_key",
]

log = logging.getLogger(__name__)

#: Version of the entries' layout; part of every key, so a new layout never reads an old file.
CACHE_FORMAT = 1

#: Entries kept in the cache folder; the oldest beyond this are removed after each write.
MAX_ENTRIES = 8

_KINDS = ("layers", "graph")
_SUFFIX = ".pickle"
#: Libraries whose objects are pickled (frames, geometries, arrays, graphs) or whose data the
#: layers are validated against (country names, searoute's ports and sea lanes).
_LIBRARIES = (
    "geopandas",
    "networkx",
    "numpy",
    "pandas",
    "pycountry",
    "pyproj",
    "scipy",
    "searoute",
    "shapely",
)
_SEAROUTE_DATA = ("ports.geojson", "marnet_dict.py")


@dataclass(frozen=True)
class CacheEntry:
    """One file in the cache folder."""

    path: Path
    kind: str
    """``layers`` or ``graph``."""
    size: int
    """Bytes on disk."""
    modified: dt.datetime
    """When it was last written or used (UTC)."""


def cache_dir() -> Path:
    """The cache folder: ``GEOSOURCE_CACHE_DIR`` if set, else the user's cache folder.

    Examples
    --------
    >>> import os
    >>> before = os.environ.get("GEOSOURCE_CACHE_DIR")
    >>> os.environ["GEOSOURCE_CACHE_DIR"] = "/tmp/geosource-cache"
    >>> cache_dir().as_posix()
    '/tmp/geosource-cache'
    >>> if before is None:
    ...     del os.environ["GEOSOURCE_CACHE_DIR"]
    ... else:
    ...     os.environ["GEOSOURCE_CACHE_DIR"] = before
    """
    env = os.environ.get("GEOSOURCE_CACHE_DIR")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_cache_dir("geosource"))


# ---------------------------------------------------------------------------------------------
# keys


def _versions() -> list[str]:
    out = [f"format={CACHE_FORMAT}", f"geosource={__version__}", f"python={sys.version}"]
    # the package's own code too: an edited checkout keeps its version number
    package = Path(__file__).parent
    out += [_file_line(f"code/{f.name}", f) for f in sorted(package.glob("*.py"))]
    for name in _LIBRARIES:
        try:
            out.append(f"{name}={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            out.append(f"{name}=none")
    return out


def _file_line(label: str, path: Path) -> str:
    try:
        return f"{label}={path.resolve()}:{file_sha256(path)}"
    except OSError:
        return f"{label}={path}:unreadable"


def _layer_lines(directory: str | os.PathLike[str] | None) -> list[str]:
    root = Path(directory) if directory is not None else bundled_layers_dir()
    lines = [f"layers={root.resolve()}"]
    lines += [_file_line(kind, path) for kind, path in sorted(layer_files(root).items())]
    data = importlib.resources.files("searoute") / "data"
    lines += [_file_line(f"searoute/{name}", Path(str(data / name))) for name in _SEAROUTE_DATA]
    return lines


def _digest(lines: list[str]) -> str:
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


def layers_key(directory: str | os.PathLike[str] | None = None) -> str:
    """The cache key of the layers :func:`load_layers` reads from ``directory`` (default: the
    bundled layers): a hex sha256 that changes with any layer file or library version.

    Examples
    --------
    >>> len(layers_key())
    64
    """
    return _digest(["layers", *_versions(), *_layer_lines(directory)])


def graph_key(
    directory: str | os.PathLike[str] | None = None, options: NetworkOptions | None = None
) -> str:
    """The cache key of the route graph built from the layers in ``directory`` with ``options``.

    Examples
    --------
    >>> graph_key() == graph_key(options=NetworkOptions())
    True
    >>> graph_key() == graph_key(options=NetworkOptions(air=False))
    False
    """
    opts = options or NetworkOptions()
    lines = ["graph", *_versions(), *_layer_lines(directory), f"options={opts!r}"]
    if opts.friction is not None:
        lines.append(_file_line("friction", Path(opts.friction)))
    return _digest(lines)


# ---------------------------------------------------------------------------------------------
# the cached objects


def cached_layers(
    directory: str | os.PathLike[str] | None = None, *, folder: str | os.PathLike[str] | None = None
) -> Layers:
    """:func:`load_layers` through the disk cache: read from the cache when the layer files are
    unchanged, else loaded, validated and stored.

    Parameters
    ----------
    directory
        The layers folder (default: the bundled layers).
    folder
        The cache folder (default: :func:`cache_dir`).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     first = cached_layers(folder=d)
    ...     again = cached_layers(folder=d)  # read back from the cache
    ...     kinds = [e.kind for e in cache_entries(d)]
    >>> kinds
    ['layers']
    >>> again.facilities.equals(first.facilities)
    True
    """
    key = layers_key(directory)
    path = _entry_path(folder, "layers", key)
    found = _read(path, key, Layers)
    if isinstance(found, Layers):
        return found
    layers = load_layers(directory)
    _write(path, key, layers)
    return layers


def cached_graph(
    directory: str | os.PathLike[str] | None = None,
    options: NetworkOptions | None = None,
    *,
    folder: str | os.PathLike[str] | None = None,
) -> nx.MultiDiGraph:
    """:func:`graph_from_layers` on :func:`cached_layers`, through the disk cache; the
    compiled routing engine comes with it. The layers are ``G.graph["layers"]``.

    Parameters
    ----------
    directory
        The layers folder (default: the bundled layers).
    options
        How the graph is built (default: ``NetworkOptions()``).
    folder
        The cache folder (default: :func:`cache_dir`).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     G = cached_graph(folder=d)
    ...     kinds = sorted(e.kind for e in cache_entries(d))
    >>> kinds
    ['graph', 'layers']
    >>> G.nodes["port:AUPHE"]["kind"]
    'port'
    >>> G.graph["layers"].facilities.crs.to_string()
    'EPSG:4326'
    """
    key = graph_key(directory, options)
    path = _entry_path(folder, "graph", key)
    found = _read(path, key, tuple)
    if isinstance(found, tuple) and len(found) == 2:
        G, eng = found
        if isinstance(G, nx.MultiDiGraph) and isinstance(eng, Engine) and adopt(G, eng):
            return G
        log.debug("cache entry %s holds something else; rebuilding it", path)
    G = graph_from_layers(cached_layers(directory, folder=folder), options=options)
    _write(path, key, (G, engine_for(G)))
    return G


# ---------------------------------------------------------------------------------------------
# reading and writing entries


def _entry_path(folder: str | os.PathLike[str] | None, kind: str, key: str) -> Path:
    root = Path(folder) if folder is not None else cache_dir()
    return root / f"{kind}-{key[:32]}{_SUFFIX}"


@contextlib.contextmanager
def _no_gc() -> Iterator[None]:
    """Unpickling makes a million small objects: without the cyclic collector running after
    every few thousand of them it is several times faster."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _read(path: Path, key: str, kind: type) -> Any:
    """The object stored at ``path`` under ``key``, or None (missing, unreadable, another
    user's, or stored under another key): never raises."""
    try:
        st = path.stat()
    except OSError:
        log.debug("cache miss: %s", path)
        return None
    if hasattr(os, "getuid") and st.st_uid != os.getuid():
        log.debug("cache entry %s belongs to another user; ignored", path)
        return None
    try:
        with path.open("rb") as f, _no_gc():
            fmt, stored_key, obj = pickle.load(f)
    except Exception as exc:  # a truncated or foreign pickle can raise almost anything
        reason = f"{type(exc).__name__}: {exc}"
        log.debug("cache entry %s cannot be read (%s); rebuilding it", path, reason)
        with contextlib.suppress(OSError):
            path.unlink()
        return None
    if fmt != CACHE_FORMAT or stored_key != key or not isinstance(obj, kind):
        log.debug("cache entry %s is not the one asked for; rebuilding it", path)
        return None
    with contextlib.suppress(OSError):
        os.utime(path)  # used now: the last to be pruned
    log.debug("cache hit: %s", path)
    return obj


def _write(path: Path, key: str, obj: Any) -> None:
    """Store ``obj`` at ``path``; on any failure log it and store nothing."""
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        with atomic_path(path) as tmp, tmp.open("wb") as f:
            pickle.dump((CACHE_FORMAT, key, obj), f, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:  # no folder, no space, an object pickle refuses: no cache
        log.debug("no cache written to %s (%s: %s)", folder, type(exc).__name__, exc)
        return
    log.debug("cache write: %s", path)
    _prune(folder)


def _prune(folder: Path) -> None:
    """Keep the newest :data:`MAX_ENTRIES` entries."""
    for entry in _entries(folder)[MAX_ENTRIES:]:
        with contextlib.suppress(OSError):
            entry.path.unlink()
            log.debug("cache entry %s removed (more than %d entries)", entry.path, MAX_ENTRIES)


def _entries(folder: Path) -> list[CacheEntry]:
    try:
        files = list(folder.iterdir())
    except OSError:
        return []
    out = []
    for f in files:
        kind = f.name.split("-", 1)[0]
        if kind not in _KINDS or f.suffix != _SUFFIX or not f.is_file():
            continue
        try:
            st = f.stat()
        except OSError:
            continue
        modified = dt.datetime.fromtimestamp(st.st_mtime, tz=dt.UTC)
        out.append(CacheEntry(f, kind, st.st_size, modified))
    return sorted(out, key=lambda e: (e.modified, e.path.name), reverse=True)


def cache_entries(folder: str | os.PathLike[str] | None = None) -> list[CacheEntry]:
    """The entries in the cache folder (default: :func:`cache_dir`), newest first.

    Examples
    --------
    >>> all(e.kind in ("layers", "graph") for e in cache_entries())
    True
    """
    return _entries(Path(folder) if folder is not None else cache_dir())


def clear_cache(folder: str | os.PathLike[str] | None = None) -> list[CacheEntry]:
    """Remove every entry from the cache folder (default: :func:`cache_dir`) and return those
    removed (files that could not be removed are left out). Other files are left alone.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = cached_layers(folder=d)
    ...     removed = [e.kind for e in clear_cache(d)]
    ...     left = cache_entries(d)
    >>> removed, left
    (['layers'], [])
    """
    removed = []
    for entry in cache_entries(folder):
        try:
            entry.path.unlink()
        except OSError as exc:
            log.debug("cache entry %s not removed (%s)", entry.path, exc)
            continue
        removed.append(entry)
    return removed

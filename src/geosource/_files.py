"""Files users give and files geosource writes.

Reading: the small configuration files users write (weights, scenarios, reports, sweeps), parsed
safely and within limits. Writing: every output goes to a temporary name in its own folder and
is renamed into place, so an interrupted run leaves the previous file (or folder) or the new one,
never a mix; output targets are checked before any work starts.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import hashlib
import json
import os
import re
import secrets
import shutil
import stat
import sys
import tomllib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

__all__ = [
    "MAX_CONFIG_BYTES",
    "atomic_folder",
    "atomic_path",
    "check_output_file",
    "check_output_folder",
    "read_table",
    "sha256",
    "write_text",
]

_KINDS = {".toml": "TOML", ".json": "JSON", ".yaml": "YAML", ".yml": "YAML"}

#: Largest configuration file read (bytes). Configs are a few hundred bytes; the cap keeps a
#: mistaken path (a data file, a log) from being parsed into memory.
MAX_CONFIG_BYTES = 1_000_000

_MANIFEST = "manifest.json"
_TMP = ".geosource-tmp-"
_STALE = re.compile(r"^\..*\.geosource-tmp-(\d+)-[0-9a-f]+$")


# ---------------------------------------------------------------------------------------------
# reading


def read_table(path: str | Path, what: str) -> dict[str, Any]:
    """The top-level table of a ``.toml``, ``.json`` or ``.yaml`` file.

    Every failure is a one-line error that names the file: missing (``FileNotFoundError``),
    an unsupported suffix, a folder, text that is not UTF-8, a file over
    :data:`MAX_CONFIG_BYTES`, a parse error, YAML aliases (``*name``, which can expand a few
    hundred bytes into gigabytes), duplicate keys or a top level that is not a table
    (``ValueError``).
    """
    p = Path(path)
    kind = _KINDS.get(p.suffix.lower())
    if kind is None:
        raise ValueError(
            f"{p}: unsupported {what} file type {p.suffix!r}; use .toml, .yaml or .json"
        )
    text = _read_text(p, what)
    try:
        data = _parse(text, kind)
    except RecursionError:
        raise ValueError(f"{p}: not valid {kind}: nested too deeply") from None
    except ValueError as exc:  # TOMLDecodeError, JSONDecodeError, YAMLError (wrapped)
        raise ValueError(f"{p}: not valid {kind}: {_one_line(exc)}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{p}: expected a table of {what} keys, found {_kind_of(data)}")
    return data


def _read_text(p: Path, what: str) -> str:
    try:
        size = p.stat().st_size
        if p.is_dir():
            raise ValueError(f"{p}: is a folder, not a {what}")
        if size > MAX_CONFIG_BYTES:
            raise ValueError(
                f"{p}: {size:,} bytes is too large for a {what} (at most {MAX_CONFIG_BYTES:,})"
            )
        return p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(f"{p}: {what} not found") from None
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"{p}: is not UTF-8 text (byte {exc.start}); save the {what} as UTF-8"
        ) from None
    except OSError as exc:
        reason = (exc.strerror or type(exc).__name__).lower()
        raise ValueError(f"{p}: cannot read the {what} ({reason})") from None


def _parse(text: str, kind: str) -> Any:
    if kind == "TOML":
        return tomllib.loads(text)
    if kind == "JSON":
        return json.loads(text, object_pairs_hook=_unique_pairs)
    import yaml

    try:
        return yaml.load(text, Loader=_yaml_loader())
    except yaml.YAMLError as exc:
        raise ValueError(str(exc)) from None


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _yaml_loader() -> type:
    """PyYAML's SafeLoader without aliases and without duplicate keys."""
    import yaml

    class Loader(yaml.SafeLoader):
        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.events.AliasEvent):
                event: Any = self.peek_event()  # type: ignore[no-untyped-call]
                raise yaml.composer.ComposerError(
                    None,
                    None,
                    f"aliases (*{event.anchor}) are not allowed in geosource config files; "
                    "write the value out in full",
                    event.start_mark,
                )
            return super().compose_node(parent, index)

        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            seen: set[Any] = set()
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=deep)
                if isinstance(key, str) and key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"duplicate key {key!r}", key_node.start_mark
                    )
                seen.add(key if isinstance(key, str) else id(key_node))
            return super().construct_mapping(node, deep=deep)

    return Loader


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def _kind_of(value: Any) -> str:
    if value is None:
        return "nothing (an empty file)"
    if isinstance(value, list):
        return "a list"
    return f"a single value {value!r}"


# ---------------------------------------------------------------------------------------------
# checking output targets (before any work starts)


def check_output_file(
    path: str | Path, suffixes: Iterable[str] | None = None, what: str = "output"
) -> Path:
    """Raise ``ValueError`` unless ``path`` can take a new file: a known suffix, not a folder,
    not a device (``/dev/null``) and in a folder that exists or can be made and written."""
    p = Path(path)
    valid = tuple(suffixes or ())
    if valid and p.suffix.lower() not in valid:
        raise ValueError(
            f"cannot write {what} {p.name!r}: use {', '.join(valid[:-1])} or {valid[-1]}"
            if len(valid) > 1
            else f"cannot write {what} {p.name!r}: use {valid[0]}"
        )
    if p.is_dir():
        raise ValueError(
            f"{p}: is a folder; give a file name for the {what}, e.g. {p / ('out' + _eg(valid))}"
        )
    if p.exists() and not p.is_file():
        raise ValueError(f"{p}: is not a regular file (a device or pipe); give a file path")
    _check_parent(p)
    return p


def check_output_folder(path: str | Path, what: str = "report", *, replace: bool = True) -> Path:
    """Raise ``ValueError`` unless ``path`` can take a new output folder.

    With ``replace`` the folder is replaced as a whole, so it must be new, empty or hold only
    what an earlier run wrote (every file listed in its ``manifest.json``): a folder of other
    files is refused, never overwritten. Without it, files are only added to the folder."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise ValueError(f"{p}: exists and is not a folder; give a folder for the {what}")
    if p.is_dir() and replace:
        resolved = p.resolve()
        here = Path.cwd().resolve()
        if resolved in (Path(resolved.anchor), Path.home().resolve(), here, *here.parents):
            raise ValueError(
                f"{p}: give a folder of its own for the {what} (not the root, home or "
                "current folder, nor one that holds it)"
            )
        foreign = _foreign_files(resolved)
        if foreign:
            raise ValueError(
                f"{p}: holds files that no earlier geosource {what} wrote (e.g. {foreign[0]}); "
                f"give a new or empty folder, or move those files"
            )
    _check_parent(p)
    return p


def _eg(valid: tuple[str, ...]) -> str:
    return valid[0] if valid else ".csv"


def _check_parent(p: Path) -> None:
    """The nearest existing folder above ``p`` must be a folder we can create files in."""
    ancestor = p.absolute().parent
    while not ancestor.exists():
        if ancestor.is_symlink():
            raise ValueError(f"{p}: {ancestor} is a broken link")
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise ValueError(f"{p}: {ancestor} is a file, not a folder, so nothing can be made in it")
    try:
        probe = ancestor / f".{p.name or 'out'}{_TMP}{os.getpid()}-{secrets.token_hex(4)}"
        probe.mkdir()
        probe.rmdir()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ValueError(
            f"{p}: cannot write in {ancestor} ({reason.lower()}); choose a writable folder"
        ) from None


def _foreign_files(folder: Path) -> list[str]:
    """Files in ``folder`` that its manifest does not list (all of them without a manifest)."""
    files = (
        f for f in folder.rglob("*") if (f.is_file() or f.is_symlink()) and not _STALE.match(f.name)
    )
    try:
        listed = set(json.loads((folder / _MANIFEST).read_text(encoding="utf-8"))["files"])
    except (OSError, ValueError, KeyError, TypeError):
        first = next(files, None)  # no manifest: any file at all is someone else's
        return [] if first is None else [str(first.relative_to(folder))]
    names = sorted(str(f.relative_to(folder)) for f in files)
    return [f for f in names if f != _MANIFEST and f not in listed]


# ---------------------------------------------------------------------------------------------
# writing atomically


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path to write ``path`` at, renamed into place when the block succeeds.

    The temporary file has the same name as ``path`` (so formats that record their file name,
    such as a GeoPackage layer or a GeoJSON ``name``, are unchanged) inside a hidden folder
    beside it; files the writer adds next to it (Shapefile sidecars) move with it. On error
    nothing is left behind and ``path`` keeps its previous content.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(target.parent)
    stage = _stage_for(target)
    stage.mkdir()
    try:
        yield stage / target.name
        written = sorted(stage.iterdir(), key=lambda f: f.name == target.name)
        for f in written:  # sidecars first, the main file last
            _fsync(f)
            os.replace(f, target.parent / f.name)
        _fsync(target.parent)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


@contextlib.contextmanager
def atomic_folder(path: str | Path) -> Iterator[Path]:
    """A new, empty folder beside ``path`` to build an output folder in.

    When the block succeeds the new folder takes the place of ``path`` in one step and the
    previous folder (if any) is removed; on error or interruption ``path`` is untouched.
    """
    target = Path(path).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(target.parent)
    stage = _stage_for(target)
    stage.mkdir()
    try:
        yield stage
        _fsync(stage)
        _swap(stage, target)
    finally:
        shutil.rmtree(stage, ignore_errors=True)  # after a swap: the previous folder


def write_text(path: str | Path, text: str) -> Path:
    """Write UTF-8 text atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes (for manifests)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _stage_for(target: Path) -> Path:
    return target.parent / f".{target.name}{_TMP}{os.getpid()}-{secrets.token_hex(4)}"


def _swap(stage: Path, target: Path) -> None:
    """Put ``stage`` at ``target``; afterwards ``stage`` holds the previous ``target``."""
    if not target.exists() and not target.is_symlink():
        try:
            os.rename(stage, target)
        except OSError as exc:  # created meanwhile: swap with it instead
            if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                raise
        else:
            return
    if _exchange(stage, target):
        return
    # no atomic exchange on this system: two renames, the old folder kept until the second
    old = stage.with_name(stage.name + "0")
    os.rename(target, old)
    os.rename(stage, target)
    os.rename(old, stage)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux ``renameat2(RENAME_EXCHANGE)``); False if unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    rc = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _fsync(path: Path) -> None:
    """Flush a file or folder to disk (best effort: not every system can fsync a folder)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        if stat.S_ISREG(os.fstat(fd).st_mode) or stat.S_ISDIR(os.fstat(fd).st_mode):
            os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _remove_stale(folder: Path) -> None:
    """Remove temporary files and folders left in ``folder`` by runs that were killed."""
    try:
        entries = list(folder.iterdir())
    except OSError:
        return
    for entry in entries:
        match = _STALE.match(entry.name)
        if match and not _alive(int(match.group(1))):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    entry.unlink()


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True

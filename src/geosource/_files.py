"""Reading the small configuration files users write (weights, scenarios, reports, sweeps)."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

_KINDS = {".toml": "TOML", ".json": "JSON", ".yaml": "YAML", ".yml": "YAML"}


def read_table(path: str | Path, what: str) -> dict[str, Any]:
    """The top-level table of a ``.toml``, ``.json`` or ``.yaml`` file.

    Every failure is a one-line error that names the file: missing (``FileNotFoundError``),
    an unsupported suffix, a parse error or a top level that is not a table (``ValueError``).
    """
    p = Path(path)
    kind = _KINDS.get(p.suffix.lower())
    if kind is None:
        raise ValueError(
            f"{p}: unsupported {what} file type {p.suffix!r}; use .toml, .yaml or .json"
        )
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(f"{p}: {what} not found") from None
    import yaml

    try:
        if kind == "TOML":
            data = tomllib.loads(text)
        elif kind == "JSON":
            data = json.loads(text)
        else:
            data = yaml.safe_load(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError, yaml.YAMLError) as exc:
        raise ValueError(f"{p}: not valid {kind}: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{p}: expected a table of {what} keys")
    return data

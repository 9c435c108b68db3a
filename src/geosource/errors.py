"""Exception and warning types that users of geosource catch.

Every exception subclasses a built-in, so ``except ValueError`` keeps working.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "GeosourceError",
    "GeosourceWarning",
    "LayerError",
    "NoRouteError",
    "Problem",
    "ReprojectedWarning",
    "SkippedRowsWarning",
]


class GeosourceError(Exception):
    """Base class of every error geosource raises on purpose."""


@dataclass(frozen=True, order=True)
class Problem:
    """One problem found in a layer: where it is, what is wrong, how to fix it.

    ``row`` is the 1-based data row (the header is not counted); ``None`` means the whole file.
    """

    file: str
    row: int | None
    field: str | None
    problem: str
    fix: str = ""

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.field is not None:
            where.append(f"field `{self.field}`")
        text = f"{', '.join(where)}: {self.problem}"
        return f"{text} — {self.fix}" if self.fix else text


class LayerError(GeosourceError, ValueError):
    """A layer file or frame failed validation.

    ``problems`` lists every problem found, not only the first.
    """

    def __init__(self, problems: list[Problem] | str) -> None:
        if isinstance(problems, str):
            self.problems: list[Problem] = []
            super().__init__(problems)
            return
        self.problems = sorted(problems, key=lambda p: (p.file, p.row or 0, p.field or ""))
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} found:"
        super().__init__("\n".join([head, *(f"  {p}" for p in self.problems)]))


class NoRouteError(GeosourceError, LookupError):
    """No route exists between two places under the given closures."""


class GeosourceWarning(UserWarning):
    """Base class of the warnings geosource emits."""


class ReprojectedWarning(GeosourceWarning):
    """A layer was converted from another CRS to EPSG:4326."""


class SkippedRowsWarning(GeosourceWarning):
    """Rows were skipped on request; the message lists each with its reason."""

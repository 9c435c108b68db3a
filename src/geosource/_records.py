"""Read-only rows kept in a frame's ``attrs``.

pandas deep-copies ``attrs`` into every frame and column derived from a frame (each ``frame[c]``,
``to_dict``, ``sort_values`` ...), so a list of a few thousand dicts there costs milliseconds on
every access. :class:`Records` is a tuple of rows that is shared, not copied: the rows are what
the analysis produced and are not meant to be edited in place.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Records"]


class Records(tuple[dict[str, Any], ...]):
    """A tuple of row dicts that ``copy.deepcopy`` returns as it is.

    Examples
    --------
    >>> import copy
    >>> rows = Records([{"chain": "a", "blocked_by": "x"}])
    >>> copy.deepcopy(rows) is rows, rows[0]["chain"], len(rows)
    (True, 'a', 1)
    """

    __slots__ = ()

    def __deepcopy__(self, memo: dict[int, Any]) -> Records:
        return self

"""File-name stems made from user text: a fixed alphabet, a bounded length, no collisions.

Names of scenarios, buyers and the like end up in file names and in the links that point at
them, so a stem may only use ``[a-z0-9_-]``. Imports nothing from the package.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

__all__ = ["SLUG_ALPHABET", "slug"]

#: Every character a stem may hold.
SLUG_ALPHABET = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_-")

_OTHER = re.compile(r"[^a-z0-9-]+")  # runs of "_" fold into one too
_HASH_LEN = 8


def slug(text: str, max_len: int = 60) -> str:
    """``text`` as a file-name stem of ``[a-z0-9_-]``, at most ``max_len`` characters.

    Text already made of those characters (starting with a letter or digit, and short enough)
    is kept as it is. Any other text is lowercased, accents are dropped, each run of other
    characters (or of ``_``) becomes one ``_``, the result is cut to length and the first 8 hex
    digits of the SHA-256 of the original text are appended, so two different texts get two
    different stems (e.g. names that differ only in punctuation or case).

    Examples
    --------
    >>> slug("red-sea-closure")
    'red-sea-closure'
    >>> slug("Red Sea closure!")
    'red_sea_closure-231f798c'
    >>> slug("x'><img\\tsrc=x\\tonerror=alert(1)>")
    'x_img_src_x_onerror_alert_1-1606322b'
    """
    if max_len <= _HASH_LEN + 1:
        raise ValueError(f"max_len must be more than {_HASH_LEN + 1}, got {max_len}")
    if text[:1].isalnum() and len(text) <= max_len and set(text) <= SLUG_ALPHABET:
        return text
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    base = _OTHER.sub("_", ascii_text.lower()).strip("_-")
    base = base[: max_len - _HASH_LEN - 1].rstrip("_-")
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:_HASH_LEN]
    return f"{base}-{digest}" if base else digest

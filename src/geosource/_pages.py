"""Pages of a report folder that explain it: methods (from the docs) and citations.

Both are plain HTML with no script. Markdown is rendered with raw HTML switched off, so text in
the docs is shown, never run; links that point outside the folder (repository files) are kept as
text, so every link of the folder resolves inside it.
"""

from __future__ import annotations

import html
import importlib.resources
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["METHOD_DOCS", "citations_page", "docs_dir", "methods_page", "page"]

#: The docs a report's methods page is made of, in order.
METHOD_DOCS = ("scoring.md", "transport.md")

STYLE = (
    "body{font:14px/1.45 system-ui,sans-serif;margin:24px;max-width:1200px}"
    "table{border-collapse:collapse;margin:6px 0}td,th{border-bottom:1px solid #ddd;"
    "padding:2px 8px;text-align:left;vertical-align:top;font-size:12.5px}"
    "pre{background:#f6f6f6;padding:8px;overflow:auto}code{background:#f6f6f6}"
    ".conc{color:#444}small{color:#555}.summary li{margin:4px 0}"
)


def docs_dir() -> Path:
    """Where the method docs are: packaged with the library, else the checkout's ``docs/``."""
    packaged = importlib.resources.files("geosource") / "_docs"
    if packaged.is_dir():
        return Path(str(packaged))
    checkout = Path(__file__).resolve().parents[2] / "docs"
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError("geosource's method docs are missing; reinstall the package")


def page(title: str, body: str, *, back: bool = True) -> str:
    """A whole HTML page: escaped title, the given (already safe) body, no script."""
    nav = '<p><a href="index.html">← report</a></p>' if back else ""
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>"
        f"{nav}{body}</body></html>\n"
    )


def render_markdown(text: str) -> str:
    """Markdown to HTML with raw HTML off and only web and in-page links kept."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    tokens = md.parse(text)
    for tok in tokens:
        stripped: list[bool] = []
        for child in tok.children or []:
            if child.type == "link_open":
                href = str(child.attrGet("href") or "")
                drop = not href.startswith(("https://", "http://", "#"))
                stripped.append(drop)
                if drop:
                    child.type, child.tag, child.attrs, child.content = "text", "", {}, ""
            elif child.type == "link_close" and stripped and stripped.pop():
                child.type, child.tag, child.attrs, child.content = "text", "", {}, ""
    return str(md.renderer.render(tokens, md.options, {}))


def methods_page(title: str, folder: Path | None = None) -> str:
    """The methods page: every doc of :data:`METHOD_DOCS`, rendered safely."""
    base = folder or docs_dir()
    parts = [
        f'<section id="{html.escape(Path(name).stem)}">'
        f"{render_markdown((base / name).read_text(encoding='utf-8'))}</section>"
        for name in METHOD_DOCS
    ]
    head = (
        f"<h1>Methods — {html.escape(title)}</h1><p>How every number of this report is "
        "computed: scoring and exposure, then transport cost, days and CO2e. Generated from "
        f"the geosource documentation ({', '.join(html.escape(n) for n in METHOD_DOCS)}).</p>"
    )
    return page(f"Methods — {title}", head + "<hr>".join(parts))


_KEYS = ("id", "buyer", "iso3", "country", "mineral", "product", "stage", "year", "kind", "mode")


def _label(rec: Mapping[Any, Any], keys: list[str]) -> str:
    return " ".join(str(rec[k]) for k in keys if rec.get(k) is not None and str(rec[k]) != "nan")


def citations_page(
    title: str, layers: Iterable[tuple[str, pd.DataFrame]], facilities_used: set[str]
) -> str:
    """Every citation of every layer row the report used, with the rows that cite it.

    Facilities are those on a chain of a table, map or allocation; every row of the other
    layers enters the scores (shares, governance, measures, chokepoints, freight, demand)."""
    sections = []
    for name, frame in layers:
        if "source" not in frame.columns:
            continue
        rows = frame
        if name == "facilities":
            rows = frame[frame["id"].isin(facilities_used)]
        keys = [k for k in _KEYS if k in rows.columns][:4] if "id" not in rows else ["id"]
        cited: dict[str, list[str]] = {}
        for rec in rows.to_dict("records"):
            cited.setdefault(str(rec["source"]), []).append(_label(rec, keys))
        items = "".join(
            f"<tr><td>{html.escape(src)}</td><td>{html.escape(', '.join(sorted(labels)))}</td></tr>"
            for src, labels in sorted(cited.items())
        )
        sections.append(
            f'<h2 id="{html.escape(name)}">{html.escape(name)} ({len(rows)} rows used, '
            f"{len(cited)} citations)</h2><table><tr><th>citation</th><th>rows</th></tr>"
            f"{items}</table>"
        )
    head = (
        f"<h1>Citations — {html.escape(title)}</h1><p>Every row of every layer this report "
        "used carries its own citation; here they are, each with the rows that cite it.</p>"
    )
    return page(f"Citations — {title}", head + "".join(sections))

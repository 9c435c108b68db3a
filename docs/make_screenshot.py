"""Write docs/img/demo_map.png: the demo map rendered in headless chromium (no tiles: offline).

python docs/make_screenshot.py out/demo_map.html
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def main(html: str) -> None:
    import geosource as gs

    dist = ROOT / ".venv" / "leaflet" / "package" / "dist"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 760})

        def route(r):
            url = r.request.url
            if url.startswith("file://"):
                return r.continue_()
            if url == gs.maps.LEAFLET_JS:
                return r.fulfill(path=str(dist / "leaflet.js"), content_type="text/javascript")
            if url == gs.maps.LEAFLET_CSS:
                return r.fulfill(path=str(dist / "leaflet.css"), content_type="text/css")
            return r.abort()

        page.route("**/*", route)
        page.goto(Path(html).resolve().as_uri())
        page.wait_for_selector("path.gs-path")
        page.wait_for_timeout(500)
        out = ROOT / "docs" / "img" / "demo_map.png"
        page.screenshot(path=str(out))
        browser.close()
    print(f"wrote {out}")


if __name__ == "__main__":
    main(sys.argv[1])

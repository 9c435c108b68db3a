"""Maps in a real browser: Playwright driving Debian's chromium, no browser download.

Each map is opened from disk. Requests to tile servers are answered with a blank tile (no
network); Leaflet's own script and stylesheet are served from the npm package (the same version
the map links to). The pages must show no console or page errors, the expected elements, working
popups and layer toggles, and run none of the injected strings.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

import geosource as gs
from test_maps import poisoned

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("GEOSOURCE_CHROMIUM", "/usr/bin/chromium")
BLANK_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _leaflet_dir() -> Path:
    """Leaflet's dist folder from the npm registry (fetched once by `make test`)."""
    version = gs.maps.LEAFLET_JS.split("leaflet@")[1].split("/")[0]
    cache = Path(os.environ.get("GEOSOURCE_LEAFLET_DIR", ROOT / ".venv" / "leaflet"))
    dist = cache / "package" / "dist"
    if not (dist / "leaflet.js").exists():
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["npm", "pack", f"leaflet@{version}", "--silent"],
            cwd=cache,
            check=True,
            capture_output=True,
        )
        with tarfile.open(cache / f"leaflet-{version}.tgz") as tar:
            tar.extractall(cache, filter="data")
    return dist


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), f"{CHROMIUM} missing: run `make test` (installs chromium)"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


class Page:
    """One map opened in a fresh page, with everything it logged."""

    def __init__(self, browser, path: Path) -> None:
        dist = _leaflet_dir()
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.blocked: list[str] = []
        self.context = browser.new_context(viewport={"width": 1280, "height": 800})
        page = self.context.new_page()
        page.on("console", lambda msg: msg.type == "error" and self.errors.append(msg.text))
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))

        def on_dialog(dialog):
            self.dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)

        def route(r):
            url = r.request.url
            if url.startswith("file://"):
                return r.continue_()
            if url == gs.maps.LEAFLET_JS:
                return r.fulfill(path=str(dist / "leaflet.js"), content_type="text/javascript")
            if url == gs.maps.LEAFLET_CSS:
                return r.fulfill(path=str(dist / "leaflet.css"), content_type="text/css")
            if "tile" in url:
                return r.fulfill(body=BLANK_PNG, content_type="image/png")
            if "/images/" in url and url.endswith(".png"):  # leaflet's own control images
                name = url.rsplit("/", 1)[1]
                return r.fulfill(path=str(dist / "images" / name), content_type="image/png")
            self.blocked.append(url)
            return r.abort()

        page.route("**/*", route)
        page.goto(path.as_uri())
        page.wait_for_selector(".leaflet-container")
        page.wait_for_timeout(300)
        self.page = page

    def count(self, selector: str) -> int:
        return self.page.locator(selector).count()

    def click_path(self, selector: str) -> None:
        """Click a point on an SVG path (its middle along the line, not its bounding box)."""
        point = self.page.evaluate(
            """(sel) => { const el = document.querySelector(sel);
                 const p = el.getPointAtLength(el.getTotalLength() / 2);
                 const m = el.getScreenCTM(); return {x: p.x * m.a + m.e, y: p.y * m.d + m.f}; }""",
            selector,
        )
        self.page.mouse.click(point["x"], point["y"])

    def close(self) -> None:
        self.context.close()


@pytest.fixture(scope="module")
def maps(tmp_path_factory, G, layers):
    out = tmp_path_factory.mktemp("maps")
    paths = gs.sourcing_paths(G, ["lithium", "rare_earths"], ["IND"], k=4, as_of="2025-06-30")
    files = {
        "paths": out / "paths.html",
        "layers": out / "layers.html",
        "poisoned": out / "poisoned.html",
        "poisoned_layers": out / "poisoned_layers.html",
    }
    gs.map_paths(paths, layers).save(str(files["paths"]))
    gs.map_layers(layers, "rare_earths").save(str(files["layers"]))
    bad_paths, bad_layers = poisoned(paths, layers)
    gs.map_paths(bad_paths, bad_layers).save(str(files["poisoned"]))
    gs.map_layers(bad_layers, "lithium").save(str(files["poisoned_layers"]))
    return paths, files


def test_paths_map_in_browser(browser, maps):
    paths, files = maps
    view = Page(browser, files["paths"])
    try:
        assert view.errors == []
        assert view.count("path.gs-path") == len(paths)
        assert view.count("path.gs-pareto") == int(paths["pareto"].sum())
        assert view.count("path.gs-endpoint") == len(
            set(paths["plant_id"])
            | {m for m in paths["mine_id"] if isinstance(m, str)}
            | set(paths["demand_id"])
        )
        assert "as of 2025-06-30" in view.page.inner_text("#gs-title")
        view.click_path("path.gs-rank-2")
        popup = view.page.wait_for_selector(".leaflet-popup-content [data-rank]")
        assert popup.get_attribute("data-rank") == "2"
        assert "Exposure" in popup.inner_text() or "exposure" in popup.inner_text()
        ARTIFACTS.mkdir(exist_ok=True)
        view.page.screenshot(path=str(ARTIFACTS / "paths_map.png"))
        # toggling a layer hides its lines
        before = view.count("path.gs-path")
        label = view.page.locator(
            ".leaflet-control-layers-overlays label", has_text="Rare earths → IND"
        )
        label.locator("input").click()
        hidden = len(paths[paths["mineral"] == "rare_earths"])
        assert view.count("path.gs-path") == before - hidden
        label.locator("input").click()
        assert view.count("path.gs-path") == before
        assert view.errors == []
    finally:
        view.close()


def test_layers_map_in_browser(browser, maps, layers):
    _, files = maps
    view = Page(browser, files["layers"])
    try:
        assert view.errors == []
        n_fac = int((layers.facilities["mineral"] == "rare_earths").sum())
        assert view.count("path.gs-facility") == n_fac
        assert view.count("path.gs-demand") == len(layers.demand_centres)
        assert view.count("path.gs-chokepoint") == len(layers.chokepoints)
        label = view.page.locator(
            ".leaflet-control-layers-overlays label", has_text="Demand centres"
        )
        label.locator("input").click()
        assert view.count("path.gs-demand") == 0
    finally:
        view.close()


@pytest.mark.parametrize("which", ["poisoned", "poisoned_layers"])
def test_injected_strings_never_run(browser, maps, which):
    _, files = maps
    view = Page(browser, files[which])
    try:
        assert view.errors == []
        # open every popup and tooltip: content is inserted into the DOM only then
        selector = "path.gs-path" if which == "poisoned" else "path.gs-facility"
        for i in range(min(view.count(selector), 12)):
            view.page.evaluate(
                "([sel, i]) => { const el = document.querySelectorAll(sel)[i];"
                " el.dispatchEvent(new MouseEvent('click', {bubbles: true}));"
                " el.dispatchEvent(new MouseEvent('mouseover', {bubbles: true})); }",
                [selector, i],
            )
            view.page.wait_for_timeout(30)
        view.page.wait_for_timeout(300)
        assert view.dialogs == [], "an injected script ran"
        assert view.count(".leaflet-popup-content img") == 0
        assert view.count(".leaflet-control-layers img, .leaflet-tooltip img") == 0
        text = view.page.inner_text("body")
        assert "<script>alert(1)</script>" in text or "onerror=alert(1)" in text
        assert view.errors == []
    finally:
        view.close()


def test_demo_screenshot_is_committed():
    shot = ROOT / "docs" / "img" / "demo_map.png"
    assert shot.exists() and shot.stat().st_size < 600_000
    assert shutil.which("npm") or (ROOT / ".venv" / "leaflet").exists()

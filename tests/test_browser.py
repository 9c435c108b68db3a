"""Maps in a real browser: Playwright driving Debian's chromium, no browser download.

Each map, the report's summary page and the sweep summary are opened from disk. Requests to
tile servers are answered with a blank tile (no network); Leaflet's own script and stylesheet
are served from the npm package (the same version the map links to). The pages must show no
console or page errors, the expected elements, working popups and layer toggles, and run none
of the injected strings: every payload is shown as text, none runs.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import numpy as np
import pytest

import geosource as gs
from geosource.cli import run
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

#: SYNTHETIC attack strings (tests only): the two reported payload families, then tabs, both
#: quotes, backticks and a closing script tag. Each one calls alert with its own number.
PAYLOADS = (
    "x'><img\tsrc=x\tonerror=alert(1)>",
    "<img src=x onerror=alert(2)>",
    '"><img src=x onerror=alert(3)>',
    "`;alert(4);`${alert(4)}",
    "</script><script>alert(5)</script>",
    "'\t\"><svg\tonload=alert(6)>",
)

#: Installed before any page script: every way a payload would announce itself is recorded.
HOOKS = """
window.__gsCalls = [];
for (const name of ["alert", "confirm", "prompt", "print"]) {
  window[name] = (...args) => { window.__gsCalls.push(name + "(" + args.join(",") + ")"); };
}
"""

#: What a payload would have planted: any `on…` attribute, an <img src=x>, or markup inside
#: the panels, layer control, tooltips and popups that hold data text.
PLANTED = """() => Array.from(document.querySelectorAll("*")).flatMap((el) => [
  ...Array.from(el.attributes).filter((a) => a.name.startsWith("on"))
    .map((a) => el.tagName + "[" + a.name + "]"),
  ...(el.matches('img[src="x"], :is(.gs-panel, .leaflet-control-layers, .leaflet-tooltip,'
    + ' .leaflet-popup-content) :is(script, img, svg, iframe)') ? [el.outerHTML] : []),
])"""

#: Hover and click every element matching a selector (tooltips and popups enter the DOM only
#: then), recording the text they show and anything planted while they are open.
PROBE = """([sel, limit, planted]) => {
  const find = eval(planted);
  const text = [], found = [];
  const els = Array.from(document.querySelectorAll(sel)).slice(0, limit);
  for (const el of els) {
    el.dispatchEvent(new MouseEvent("mouseover", {bubbles: true}));
    el.dispatchEvent(new MouseEvent("click", {bubbles: true}));
    for (const t of document.querySelectorAll(".leaflet-tooltip, .leaflet-popup-content")) {
      text.push(t.innerText);
    }
    found.push(...find());
  }
  return {count: els.length, text: text.join(" "), planted: found};
}"""


def _words(text: str) -> str:
    """Whitespace as a browser renders it: runs of spaces, tabs and newlines are one space."""
    return " ".join(text.split())


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

    def __init__(
        self, browser, path: Path, ready: str = ".leaflet-container", offline: bool = False
    ) -> None:
        dist = _leaflet_dir()
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.blocked: list[str] = []
        self.context = browser.new_context(viewport={"width": 1280, "height": 800})
        page = self.context.new_page()
        page.add_init_script(HOOKS)
        page.on("console", lambda msg: msg.type == "error" and self.errors.append(msg.text))
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))

        def on_dialog(dialog):
            self.dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)

        def route(r):
            url = r.request.url
            if url.startswith(("file://", "data:")):
                return r.continue_()
            if offline:  # no network at all: every other request fails
                self.blocked.append(url)
                return r.abort()
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
        page.wait_for_selector(ready)
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

    def probe(self, selector: str, limit: int = 400) -> str:
        """Open the tooltip and popup of each element; the text shown on the page and in them.

        Fails if opening them planted an element with an event handler."""
        assert self.count(selector) > 0, f"nothing matches {selector!r}"
        got = self.page.evaluate(PROBE, [selector, limit, PLANTED])
        assert got["planted"] == [], f"injected markup: {got['planted'][:5]}"
        return _words(self.page.inner_text("body") + "\n" + got["text"])

    def assert_no_script_ran(self) -> None:
        """No injected script ran, no handler was planted and the page logged no error."""
        self.page.wait_for_timeout(300)  # a broken <img src=x> fires onerror asynchronously
        assert self.dialogs == [], f"an injected script ran: {self.dialogs}"
        assert self.page.evaluate("window.__gsCalls") == [], "an injected script ran"
        planted = self.page.evaluate(PLANTED)
        assert planted == [], f"injected markup: {planted[:5]}"
        assert self.errors == []

    def close(self) -> None:
        self.context.close()


def _assert_shown(text: str, payloads=PAYLOADS) -> None:
    """Every payload is on the page as text: escaped, not dropped."""
    missing = [p for p in payloads if _words(p) not in text]
    assert missing == [], f"payload text not shown: {missing}"


def _poison_paths(paths, columns):
    """The same results with text columns prefixed by SYNTHETIC attack strings (tests only)."""
    p = paths.copy()
    for i, col in enumerate(columns):
        p[col] = [f"{PAYLOADS[(i + j) % len(PAYLOADS)]} {v}" for j, v in enumerate(p[col])]
    return p


def _poison_layers(layers):
    """The same layers with names, stages, notes and sources replaced by SYNTHETIC attack
    strings (tests only)."""
    n = len(PAYLOADS)
    fac = layers.facilities.copy()
    for i, col in enumerate(("name", "operator", "source", "capacity_unit", "country")):
        fac[col] = [f"{PAYLOADS[(i + j) % n]} {v}" for j, v in enumerate(fac[col])]
    stages = sorted(set(fac["stage"]))
    fac["stage"] = [f"{PAYLOADS[stages.index(s) % n]} {s}" for s in fac["stage"]]
    chokes = layers.chokepoints.copy()
    for i, col in enumerate(("name", "risk_rationale", "source")):
        chokes[col] = [f"{PAYLOADS[(i + j) % n]} {v}" for j, v in enumerate(chokes[col])]
    dem = layers.demand_centres.copy()
    for i, col in enumerate(("name", "import_ports", "source")):
        dem[col] = [f"{PAYLOADS[(i + j) % n]} {v}" for j, v in enumerate(dem[col])]
    bounds = layers.boundaries.copy()
    bounds["name"] = [f"{PAYLOADS[j % n]} {v}" for j, v in enumerate(bounds["name"])]
    return layers.replace(facilities=fac, chokepoints=chokes, demand_centres=dem, boundaries=bounds)


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
            {f for chain in paths["chain"] for f in chain} | set(paths["demand_id"])
        )
        assert view.count("path.gs-leg") == sum(len(c) for c in paths["chain"])
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


# ---------------------------------------------------------------------------------------------
# every HTML output, with SYNTHETIC attack strings in every text a user or a layer can set


_REASONS = ["reasons", *(f"{c}_reason" for c in gs.exposure.COMPONENTS), "export_controls_reason"]


@pytest.fixture(scope="module")
def payload_maps(tmp_path_factory, G, layers):
    """One file per map kind, drawn from SYNTHETIC attack strings (tests only)."""
    out = tmp_path_factory.mktemp("payload_maps")
    paths = gs.sourcing_paths(G, ["lithium", "graphite"], ["IND"], k=4, as_of="2025-06-30")
    bad_layers = _poison_layers(layers)
    text = ["mine", "plant", "demand", "passages", *_REASONS]
    files = {kind: out / f"{kind}.html" for kind in ("paths", "layers", "surface")}
    gs.map_paths(
        _poison_paths(paths, [*text, "query", "mine_country", "plant_country"]), bad_layers
    ).save(str(files["paths"]))
    gs.map_layers(bad_layers, "lithium").save(str(files["layers"]))
    grid = np.linspace(0.0, 1.0, 18 * 36).reshape(18, 36)  # SYNTHETIC band
    surface = {
        "bands": {" | ".join(PAYLOADS): grid},
        "mineral": " ".join(PAYLOADS[:3]),
        "buyer": " ".join(PAYLOADS[3:]),
    }
    gs.map_surface(surface, band=" | ".join(PAYLOADS)).save(str(files["surface"]))
    after = gs.apply_scenario(G, layers, "malacca-closure").sourcing_paths(
        ["lithium", "graphite"], ["IND"], k=4, as_of="2025-06-30"
    )
    for i, name in enumerate(PAYLOADS):
        files[f"compare{i}"] = out / f"compare{i}.html"
        before, later = _poison_paths(paths, text), _poison_paths(after, text)
        diff = gs.compare(before, later, name=name)
        gs.map_compare(diff, before, later).save(str(files[f"compare{i}"]))
    return files


@pytest.mark.parametrize(
    ("kind", "selector"),
    [
        ("paths", "path.leaflet-interactive"),
        ("layers", "path.leaflet-interactive"),
        ("surface", "img.leaflet-image-layer"),
    ],
)
def test_payloads_in_maps_never_run(browser, payload_maps, kind, selector):
    view = Page(browser, payload_maps[kind])
    try:
        text = view.probe(selector, limit=1000)
        view.assert_no_script_ran()
        _assert_shown(text)
    finally:
        view.close()


@pytest.mark.parametrize("i", range(len(PAYLOADS)))
def test_payload_scenario_names_in_compare_maps_never_run(browser, payload_maps, i):
    view = Page(browser, payload_maps[f"compare{i}"])
    try:
        text = view.probe("path.leaflet-interactive")
        view.assert_no_script_ran()
        _assert_shown(text)
        name = _words(PAYLOADS[i])
        assert f"Baseline vs {name}" in text
        assert f"{name}: " in text, "the scenario name is shown in its lines' tooltips"
    finally:
        view.close()


@pytest.fixture(scope="module")
def payload_report(tmp_path_factory, G, layers):
    """A report whose title and scenarios carry SYNTHETIC attack strings (tests only)."""
    out = tmp_path_factory.mktemp("payload_report")
    entries = []
    for i, name in enumerate(PAYLOADS):
        entry = out / f"scenario{i}.json"
        description = f"SYNTHETIC test scenario {i}: {PAYLOADS[(i + 1) % len(PAYLOADS)]}"
        entry.write_text(
            json.dumps({"name": name, "description": description, "closed_passages": ["malacca"]}),
            encoding="utf-8",
        )
        entries.append(str(entry))
    config = {
        "title": " ".join(PAYLOADS),
        "buyers": ["IND"],
        "minerals": ["lithium"],
        "scenarios": entries,
        "k": 2,
    }
    return gs.build_report(config, out / "report", G=G, layers=layers)


def test_payloads_in_report_index_never_run(browser, payload_report):
    view = Page(browser, payload_report, ready="h1")
    try:
        view.assert_no_script_ran()
        assert view.count("script") == 0
        text = _words(view.page.inner_text("body"))
        _assert_shown(text)
        assert view.page.title() == _words(" ".join(PAYLOADS))
        root = payload_report.parent
        for attr in ("href", "src"):
            for ref in view.page.eval_on_selector_all(
                f"[{attr}]", f"els => els.map(e => e.getAttribute('{attr}'))"
            ):
                assert (root / ref).is_file(), f"{attr}={ref!r} points at no file"
    finally:
        view.close()


def test_payloads_in_report_maps_never_run(browser, payload_report):
    index = Page(browser, payload_report, ready="h1")
    try:
        links = index.page.eval_on_selector_all(
            "a[href^='maps/']",
            "els => els.map(a => [a.getAttribute('href'), a.closest('p, h4').innerText])",
        )
    finally:
        index.close()
    scenarios = 0
    for href, context in links:
        view = Page(browser, payload_report.parent / href)
        try:
            text = view.probe("path.leaflet-interactive")
            view.assert_no_script_ran()
            if context.startswith("Scenario "):
                scenarios += 1
                i = next(i for i in range(len(PAYLOADS)) if f"test scenario {i}:" in context)
                assert f"{_words(PAYLOADS[i])}: " in text, (href, PAYLOADS[i])
        finally:
            view.close()
    assert scenarios == len(PAYLOADS)


def _synthetic_draws(*_args, **_kwargs):
    """A SYNTHETIC Monte Carlo result (tests only) with attack strings in every text field."""
    import pandas as pd

    n = len(PAYLOADS)
    charted = [p.replace("\t", " ") for p in PAYLOADS]  # the chart's font has no tab glyph
    options = pd.DataFrame(
        {
            "mine_country": [f"{p} AUS" for p in charted],
            "plant_country": [f"{charted[(j + 1) % n]} CHN" for j in range(n)],
            "p_lost": np.linspace(0.0, 0.5, n),
            "expected_extra_km": np.linspace(0.0, 900.0, n),
            "p95_extra_km": np.linspace(0.0, 1800.0, n),
            "expected_exposure": np.linspace(0.2, 0.6, n),
        }
    )
    summary = {
        "mineral": "graphite",
        "buyer": "JPN",
        "draws": 10,
        "combinations": 2,
        "p_no_good_option": 0.1,
        **{f"SYNTHETIC note {i}": p for i, p in enumerate(PAYLOADS)},
    }
    events = pd.DataFrame({"kind": ["closure"], "event": [PAYLOADS[0]], "probability": [0.2]})
    combos = pd.DataFrame({"combo": [0, 1], "draws": [8, 2], "events": ["", PAYLOADS[0]]})
    return gs.sweeps.MonteCarloResult(
        options=options, summary=summary, events=events, combos=combos
    )


def test_payloads_in_sweep_summary_never_run(browser, tmp_path, monkeypatch):
    monkeypatch.setattr(gs, "monte_carlo", _synthetic_draws)
    cfg = tmp_path / "sweep.toml"
    cfg.write_text('mineral = "graphite"\nto = "JPN"\nn = 10\n', encoding="utf-8")
    out = tmp_path / "sweep"
    assert run(["sweep", str(cfg), "-o", str(out)]) == 0
    view = Page(browser, out / "summary.html", ready="h1")
    try:
        view.assert_no_script_ran()
        assert view.count("script") == 0
        _assert_shown(_words(view.page.inner_text("body")))
        assert view.page.evaluate("document.querySelector('img').naturalWidth") > 0
    finally:
        view.close()


# ---------------------------------------------------------------------------------------------
# maps for the model: stages, blocked chains, world flows, offline maps, the report's pages


@pytest.fixture(scope="module")
def model_maps(tmp_path_factory, G, layers):
    """Maps of a multi-stage chain, a ban (blocked chains), a closure and a world allocation,
    plus the same drawn from SYNTHETIC attack strings (tests only)."""
    out = tmp_path_factory.mktemp("model_maps")
    day = "2026-12-01"
    paths = gs.sourcing_paths(G, ["rare_earths", "gallium"], ["IND", "USA"], k=3, as_of=day)
    world = gs.allocate_world(G, "rare_earths", as_of=day, scenario="china-ree-export-ban")
    after = gs.apply_scenario(G, layers, "red-sea-closure").sourcing_paths(
        "rare_earths", ["IND", "JPN"], k=None, as_of=day
    )
    base = gs.sourcing_paths(G, "rare_earths", ["IND", "JPN"], k=None, as_of=day)
    files = {k: out / f"{k}.html" for k in ("paths", "flows", "compare", "offline", "bad_flows")}
    gs.map_paths(paths, layers).save(str(files["paths"]))
    gs.map_flows(world, layers).save(str(files["flows"]))
    gs.map_compare(
        gs.compare(base, after, name="red-sea-closure"),
        base[base["rank"] <= 3],
        after[after["rank"] <= 3],
        layers=layers,
    ).save(str(files["compare"]))
    gs.map_paths(paths, layers, self_contained=True).save(str(files["offline"]))
    bad = dataclasses.replace(
        world,
        scenario=" ".join(PAYLOADS),
        message=" ".join(PAYLOADS),
        demand_source=list(PAYLOADS),
        unit=PAYLOADS[1],
    )
    bad.buyers = world.buyers.assign(unit=PAYLOADS[2])
    gs.map_flows(bad, _poison_layers(layers)).save(str(files["bad_flows"]))
    return paths, world, files


def test_stages_legs_and_blocked_chains_in_browser(browser, model_maps):
    paths, _, files = model_maps
    view = Page(browser, files["paths"])
    try:
        assert view.count("path.gs-leg") == sum(len(c) for c in paths["chain"])
        assert view.count("path.gs-stage") == len({f for c in paths["chain"] for f in c})
        assert view.count("path.gs-leg.gs-mode-sea") > 0
        blocked = paths.attrs["blocked"]
        assert blocked, "the gallium ban to the US blocks chains"
        assert view.count("#gs-blocked li.gs-blocked-item") == min(len(blocked), 25)
        side = view.page.inner_text("#gs-blocked")
        assert blocked[0]["blocked_by"].split(" ")[0] in side and "China" in side
        legend = view.page.inner_text("#gs-legend")
        assert "lower is better" in legend and "sea" in legend and "refining site" in legend
        text = view.probe("path.gs-leg", limit=60)
        assert "USD/t" in text and "days" in text and "kg CO2e/t" in text
        assert "India" in view.page.inner_text("#gs-title")
        view.assert_no_script_ran()
    finally:
        view.close()


def test_flows_map_in_browser(browser, model_maps):
    _, world, files = model_maps
    view = Page(browser, files["flows"])
    try:
        drawn = world.flows[world.flows["buyer"] != "ROW"]
        assert view.count("path.gs-flow") >= len(drawn) > 0
        short = world.buyers[(world.buyers["unmet"] > 1e-6) & (world.buyers["buyer"] != "ROW")]
        assert view.count("path.gs-unmet") == len(short)
        text = view.probe("path.gs-unmet")
        usa = short.set_index("buyer").loc["USA"]
        assert f"United States: short {usa['unmet']:,.0f} of {usa['demand']:,.0f}" in text
        widths = view.page.eval_on_selector_all(
            "path.gs-flow", "els => els.map(e => parseFloat(e.getAttribute('stroke-width')))"
        )
        assert max(widths) > 3 * min(widths), "line width follows tonnes"
        assert "Rare earths: world allocation under china-ree-export-ban" in view.page.inner_text(
            "#gs-title"
        )
        assert "Origin" in view.page.inner_text("#gs-legend")
        view.assert_no_script_ran()
    finally:
        view.close()


def test_payloads_in_flows_map_never_run(browser, model_maps):
    _, _, files = model_maps
    view = Page(browser, files["bad_flows"])
    try:
        text = view.probe("path.leaflet-interactive", limit=400)
        view.assert_no_script_ran()
        _assert_shown(text)
    finally:
        view.close()


def test_compare_map_title_legend_markers_in_browser(browser, model_maps):
    _, _, files = model_maps
    view = Page(browser, files["compare"])
    try:
        title = view.page.inner_text("#gs-title")
        assert "Rare earths" in title and "India" in title and "Japan" in title
        assert "Baseline vs red-sea-closure" in title
        legend = view.page.inner_text("#gs-legend")
        assert "lost under red-sea-closure" in legend and "baseline option" in legend
        assert view.count("path.gs-stage") > 0 and view.count("path.gs-buyer") > 0
        view.assert_no_script_ran()
    finally:
        view.close()


def test_self_contained_map_renders_offline(browser, model_maps):
    paths, _, files = model_maps
    html_text = files["offline"].read_text(encoding="utf-8")
    assert gs.maps.LEAFLET_JS not in html_text and "<script src=" not in html_text
    view = Page(browser, files["offline"], offline=True)
    try:
        assert view.page.evaluate("typeof L") == "object"
        assert view.count("path.gs-path") == len(paths)
        assert all("tile" in url for url in view.blocked), view.blocked
        # the only failures are the blocked tiles
        assert [e for e in view.errors if "Failed to load resource" not in e] == []
        assert view.dialogs == []
    finally:
        view.close()


def test_longitudes_continuous_across_the_pacific(model_maps):
    """No drawn line jumps more than half the world between two points."""
    import re

    _, _, files = model_maps
    for kind in ("paths", "flows", "compare"):
        page = files[kind].read_text(encoding="utf-8")
        blocks = re.findall(r"L\.polyline\(\s*(\[.*?\])\s*,\s*\{", page, re.S)
        assert blocks, kind
        for block in blocks:
            parts = json.loads(block)
            parts = parts if isinstance(parts[0][0], list) else [parts]
            for part in parts:
                lons = [p[1] for p in part]
                assert all(abs(b - a) < 180 for a, b in itertools.pairwise(lons)), kind


def test_report_pages_in_browser(browser, payload_report):
    root = payload_report.parent
    for page_name in ("methods.html", "citations.html"):
        view = Page(browser, root / page_name, ready="h1")
        try:
            view.assert_no_script_ran()
            assert view.count("script") == 0
            for ref in view.page.eval_on_selector_all(
                "a[href]", "els => els.map(e => e.getAttribute('href'))"
            ):
                assert ref.startswith(("http://", "https://", "#")) or (root / ref).is_file(), ref
        finally:
            view.close()
    index = Page(browser, payload_report, ready="h1")
    try:
        assert index.count("#summary li.gs-sentence") > 0
        assert "India" in index.page.inner_text("#summary")
    finally:
        index.close()

# geosource: `make demo` and `make test` each set themselves up from nothing.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CHROMIUM ?= /usr/bin/chromium
LEAFLET := $(VENV)/leaflet/package/dist/leaflet.js

.PHONY: setup demo test lint typecheck pytest bench browser clean screenshot

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/geosource demo -o out
	$(BIN)/geosource report examples/report.toml -o out/report

lint: $(STAMP)
	$(BIN)/ruff check src tests bench docs layers/scripts
	$(BIN)/ruff format --check src tests bench docs layers/scripts

typecheck: $(STAMP)
	$(BIN)/mypy

# Browser tests drive Debian's chromium (no browser download) and serve Leaflet from its npm
# package instead of the CDN the maps link to.
browser: $(CHROMIUM) $(LEAFLET)

$(CHROMIUM):
	@command -v apt-get >/dev/null || { echo "install chromium (Debian: apt-get install chromium)"; exit 1; }
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

$(LEAFLET): $(STAMP)
	mkdir -p $(VENV)/leaflet
	cd $(VENV)/leaflet && npm pack --silent leaflet@$$($(abspath $(BIN))/python -c "import geosource.maps as m; print(m.LEAFLET_JS.split('@')[1].split('/')[0])") \
		&& tar -xzf leaflet-*.tgz

pytest: $(STAMP) browser
	$(BIN)/pytest --doctest-modules src tests

test: lint typecheck pytest

bench: $(STAMP)
	@for f in bench/bench_*.py; do echo "== $$f"; $(BIN)/python $$f; done

screenshot: demo browser
	$(BIN)/python docs/make_screenshot.py out/demo_map.html

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis out test-artifacts

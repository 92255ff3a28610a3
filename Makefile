# KHM — two commands: `make demo` and `make test`. Everything else they need is set up here.
SHELL := /bin/bash
PY_SYS ?= python3
VENV := .venv
PY := $(VENV)/bin/python
UV := .tools/bin/uv
UV_VERSION := 0.13.9
export UV_PYTHON_DOWNLOADS := never
export DJANGO_SETTINGS_MODULE := config.settings
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT := DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get
HOST ?= 127.0.0.1
PORT ?= 8000
DEMO_PEOPLE ?= 12000
DEMO_SEED ?= 46

.PHONY: demo test setup sysdeps sysdeps-test venv static messages env db demo-data serve lint types contracts \
        test-sqlite test-postgres test-browser bench clean screenshot

## demo: set up everything, load areas and demo data into SQLite, serve http://127.0.0.1:8000
demo: setup db demo-data serve

## test: set up everything, then lint, types, import contracts, tests on SQLite and on PostgreSQL
test: setup sysdeps-test lint types contracts test-sqlite test-postgres

setup: sysdeps venv static env messages

# Debian packages, installed only when missing. WeasyPrint (PDF minutes and notices) loads
# Pango and HarfBuzz's subsetter at run time, so the demo needs them too, not only the tests.
sysdeps:
	@missing=""; command -v msgfmt >/dev/null || missing="$$missing gettext"; \
	command -v npm >/dev/null || missing="$$missing npm"; \
	libs="$$( { ldconfig -p || /sbin/ldconfig -p; } 2>/dev/null)"; \
	for lib in libpango-1.0.so.0=libpango-1.0-0 libpangoft2-1.0.so.0=libpangoft2-1.0-0 \
	           libharfbuzz-subset.so.0=libharfbuzz-subset0; do \
	  grep -qF "$${lib%%=*} " <<<"$$libs" || missing="$$missing $${lib#*=}"; done; \
	if [ -n "$$missing" ]; then echo "installing:$$missing"; $(APT) update -qq && $(APT) install -y -q --no-install-recommends $$missing; fi

sysdeps-test:
	@missing=""; ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || command -v pg_ctl >/dev/null || missing="$$missing postgresql"; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	fc-list 2>/dev/null | grep -qi -E "loma|garuda|kinnari|sarabun|noto sans thai" || missing="$$missing fonts-thai-tlwg"; \
	if [ -n "$$missing" ]; then echo "installing:$$missing"; $(APT) update -qq && $(APT) install -y -q --no-install-recommends $$missing; fi

$(UV):
	$(PY_SYS) -m venv .tools
	.tools/bin/pip install -q "uv==$(UV_VERSION)"

venv: $(UV)
	$(UV) sync --frozen --python $(PY_SYS) -q

# htmx, the Sarabun font (PDF and Word documents) and Leaflet (the online base map of
# /insights/map/) come from the npm registry through package-lock.json; static/vendor is build
# output, not committed. Sarabun: the Thai and Latin subsets, regular and bold, and its licence
# (OFL-1.1) next to them. Leaflet: the minified script, its stylesheet, the marker/layer images
# the stylesheet points at, and its licence (BSD-2-Clause).
static: package-lock.json
	@if [ ! -f node_modules/htmx.org/dist/htmx.min.js ] || [ ! -f node_modules/@fontsource/sarabun/LICENSE ] \
	  || [ ! -f node_modules/leaflet/dist/leaflet.js ]; then \
	  npm ci --no-audit --no-fund --loglevel=error; fi
	@mkdir -p static/vendor/fonts/sarabun && cp node_modules/htmx.org/dist/htmx.min.js static/vendor/htmx.min.js
	@cp node_modules/@fontsource/sarabun/files/sarabun-{thai,latin}-{400,700}-normal.woff \
	  node_modules/@fontsource/sarabun/LICENSE static/vendor/fonts/sarabun/
	@mkdir -p static/vendor/leaflet/images && cp node_modules/leaflet/dist/leaflet.{js,css} \
	  node_modules/leaflet/LICENSE static/vendor/leaflet/
	@cp node_modules/leaflet/dist/images/*.png static/vendor/leaflet/images/

messages:
	@$(PY) manage.py compilemessages -v 0 -i .venv -i .tools -i node_modules

env:
	@$(PY) scripts/write_env.py .env
	@mkdir -p var

db:
	$(PY) manage.py migrate --noinput -v 0
	$(PY) manage.py load_areas

demo-data:
	$(PY) manage.py seed_demo --people $(DEMO_PEOPLE) --seed $(DEMO_SEED)

serve:
	@echo "KHM is at http://$(HOST):$(PORT)/  (demo users: see README or above; Ctrl-C stops)"
	$(PY) manage.py runserver $(HOST):$(PORT) --noreload

lint:
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

types:
	$(VENV)/bin/mypy

contracts:
	$(VENV)/bin/lint-imports

test-sqlite:
	$(PY) -m pytest -q -p no:cacheprovider

## test-browser: only the Chromium tests; screenshot: refresh docs/img/household-list.png
test-browser: setup sysdeps-test
	$(PY) -m pytest -q -p no:cacheprovider -m browser

screenshot: setup sysdeps-test
	KHM_SCREENSHOT=1 $(PY) -m pytest -q -p no:cacheprovider -m browser -k desktop

test-postgres:
	$(PY) scripts/with_postgres.py -- $(PY) -m pytest -q -p no:cacheprovider

bench:
	$(PY) benchmarks/bench_generator.py --people 1000000
	$(PY) benchmarks/bench_household_list.py --people 1000000
	$(PY) benchmarks/bench_household_list.py --people 1000000 --db postgres
	$(PY) benchmarks/bench_linkage.py --people 1000000

clean:
	rm -rf $(VENV) .tools node_modules static/vendor var

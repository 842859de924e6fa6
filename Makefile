# hcc-nomogram: two commands do everything (see README.md).
#   make run   -> set up .venv, generate the demo cohort if absent, `kedro run`
#   make test  -> set up .venv, ruff check + ruff format --check, the whole pytest suite
#   make ingest -> a DICOM export (PACS/TCIA) -> cohort manifest (docs/ingest.md)
# Both are idempotent; the second call skips the install (stamp file).

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.hcc-installed
LOCK := requirements-lock.txt

# Medical software may run inside hospital networks: no telemetry, ever.
export KEDRO_DISABLE_TELEMETRY := true
export DO_NOT_TRACK := 1
export TF_CPP_MIN_LOG_LEVEL := 2
export KEDRO_LOGGING_CONFIG := $(CURDIR)/conf/logging.yml

.PHONY: run test install demo lint report viz clean-demo predict ingest ingest-demo

run: install demo
	$(BIN)/kedro run

test: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/pytest

install: $(STAMP)

# pymrmr's setup.py imports Cython and numpy, so it is built after them without build
# isolation; every package is pinned through the constraints file $(LOCK).
$(STAMP): pyproject.toml $(LOCK)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24" "setuptools>=68" wheel
	$(BIN)/python -m pip install --quiet -c $(LOCK) Cython numpy
	$(BIN)/python -m pip install --quiet -c $(LOCK) --no-build-isolation pymrmr
	$(BIN)/python -m pip install --quiet -c $(LOCK) -e ".[dev]"
	touch $(STAMP)

# The demo cohort is deterministic: generate it once; `make clean-demo` forces a rebuild.
demo: install data/01_raw/demo/manifest.csv

data/01_raw/demo/manifest.csv:
	$(BIN)/kedro run --pipelines=demo_cohort

clean-demo:
	rm -rf data/01_raw/demo

# Apply the latest trained models to example new patients (3 demo validation patients with
# one reader's masks and no outcomes), after `make run`. See docs/predict.md.
predict: install demo
	test -f data/01_raw/new_patients/manifest.csv || $(BIN)/python -m hcc_nomogram.demo.new_patients
	$(BIN)/kedro run --pipelines=predict

# Real DICOM studies in (docs/ingest.md): index a PACS/TCIA export (conf/local/catalog.yml:
# dicom_export), choose the phases, convert SEG/RTSTRUCT/NIfTI masks onto each CT's grid ->
# data/02_intermediate/ingest/manifest.csv and data/08_reporting/ingest_qc.csv/.
ingest: install
	$(BIN)/kedro run --pipelines=ingest

# The same on 3 demo patients written as a DICOM export (data/01_raw/dicom).
ingest-demo: install demo
	test -d data/01_raw/dicom || $(BIN)/python -m hcc_nomogram.demo.dicom_export --patients 3
	$(BIN)/kedro run --pipelines=ingest

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

viz: install
	$(BIN)/python -m hcc_nomogram.viz

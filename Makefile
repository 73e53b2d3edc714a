# radplug: the two commands of the README.
#   make run    set everything up (./setup.sh) and run the pipeline on the embedded synthetic cohort
#   make test   set everything up and run the test suite (package tests and real Nextflow runs)
SHELL := /bin/bash
VENV  ?= .venv
export NXF_OFFLINE ?= true
export PYTHONUTF8 ?= 1

.PHONY: setup run test test-unit test-step test-pipeline test-fast lint

setup:
	./setup.sh

run: setup
	$(VENV)/bin/nextflow run main.nf $(ARGS)

# all levels, in the order tests/conftest.py gives: unit, step, pipeline (stub runs first, the slow tier last)
test: setup
	@set +e; $(VENV)/bin/python -m pytest -ra $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; rc=0; fi; exit $$rc

# one level; test-fast: everything but the slow tier (the heavy real runs)
test-unit test-step test-pipeline: setup
	$(VENV)/bin/python -m pytest -ra tests/$(@:test-%=%) $(PYTEST_ARGS)

test-fast: setup
	$(VENV)/bin/python -m pytest -ra -m "not slow" $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check radplug tests benchmarks bin

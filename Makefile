# radplug: the two commands of the README.
#   make run    set everything up (./setup.sh) and run the pipeline on the embedded synthetic cohort
#   make test   set everything up and run the test suite (package tests and real Nextflow runs)
SHELL := /bin/bash
VENV  ?= .venv
export NXF_OFFLINE ?= true
export PYTHONUTF8 ?= 1

.PHONY: setup run test lint

setup:
	./setup.sh

run: setup
	$(VENV)/bin/nextflow run main.nf $(ARGS)

test: setup
	@set +e; $(VENV)/bin/python -m pytest -ra $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; rc=0; fi; exit $$rc

lint: setup
	$(VENV)/bin/ruff check radplug tests benchmarks bin

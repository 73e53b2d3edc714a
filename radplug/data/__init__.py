"""Prepare the data: read, check and binarize the cohorts (PREPARE_DATA: INGEST, PREFLIGHT, VALIDATE, BINARIZE;
SIMULATE; EXTRACT)."""

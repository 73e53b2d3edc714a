"""Explain the models: gene-set masking and the other interpreters, and their significance (EXPLAIN_MODELS)."""

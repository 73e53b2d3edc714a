"""Train the models: the search, cross-validation, selection, final fits and test-cohort scores (TRAIN_MODELS)."""

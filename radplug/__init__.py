"""radplug: radiogenomic models of CT radiomic features and histology, explained by gene-set masking."""

__version__ = "0.1.0"
SCHEMA_VERSION = "1"

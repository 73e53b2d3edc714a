"""Deliberately broken plugin: importing it fails (a dependency that does not exist)."""

import radplug_dependency_that_does_not_exist  # noqa: F401

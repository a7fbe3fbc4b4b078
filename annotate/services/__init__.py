"""Writes for the annotate app. Import from the submodules."""

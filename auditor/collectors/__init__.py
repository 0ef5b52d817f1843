"""Collectors turn a source (live engine, saved JSON, compose files) into ``Snapshot`` objects."""

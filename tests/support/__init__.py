"""Shared test helpers: tiny model builders and real-engine fixtures."""

"""Reporters: pure functions of a result to a stream, one module per format.

``formats.registry()`` finds every module's ``FORMAT`` declaration; commands ask it for a
renderer by name (``-f``) or by file extension (``-o FILE``).
"""

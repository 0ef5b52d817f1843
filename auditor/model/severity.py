"""Severity levels, ordered so that thresholds are simple comparisons."""

from __future__ import annotations

from enum import IntEnum


class Severity(IntEnum):
    """How bad a finding is. The integer order is the gate order."""

    INFO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        """Read a severity name case-insensitively; raises ``ValueError`` naming the choices."""
        try:
            return cls[text.strip().upper()]
        except KeyError:
            choices = ", ".join(s.label for s in sorted(cls, reverse=True))
            raise ValueError(f"unknown severity {text!r} (choose from {choices})") from None


ORDERED_DESC: tuple[Severity, ...] = tuple(sorted(Severity, reverse=True))

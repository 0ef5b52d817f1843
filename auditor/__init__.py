"""auditor: a security and performance auditing scanner for Docker networking."""

__version__ = "0.1.0"

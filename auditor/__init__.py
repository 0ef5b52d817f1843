"""auditor: a security and performance auditing scanner for Docker networking."""

__version__ = "0.1.0"


def _from_a_checkout() -> None:
    """`python -m auditor` in the repository root puts the source tree first on sys.path, ahead
    of the installed copy. There the design card's folders rules/, reports/ and benchmarks/ sit
    beside this package, while the wheel (and an editable install's finder) map them under
    `auditor`: when nothing maps them, let them be found beside this package."""
    import importlib.util
    from pathlib import Path

    checkout = Path(__file__).resolve().parent.parent
    if not (checkout / "pyproject.toml").is_file() or not (checkout / "rules" / "__init__.py").is_file():
        return
    if importlib.util.find_spec("auditor.rules") is None:
        __path__.append(str(checkout))  # noqa: F821 - a package's __path__ is set before this runs


_from_a_checkout()

"""One registry of output formats for every document the tool writes: scans, diffs, benchmarks.

A reporter module declares what it renders with a module-level ``FORMAT`` (or ``FORMATS``)
of ``OutputFormat`` records: a name, the file extensions that select it for ``-o FILE``, and a
pure render function per document kind. The registry finds them by walking this package, so
adding a format is one new module (plus its template and test); modules that declare the same
name contribute renderers for different kinds to one format.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import IO, Any

from auditor.model.errors import InputError

SCAN, DIFF, BENCH = "scan", "diff", "bench"
KINDS = (SCAN, DIFF, BENCH)

Render = Callable[[Any, IO[str]], None]


@dataclass(frozen=True)
class OutputFormat:
    """One output format: ``renderers`` maps a document kind (scan, diff, bench) to a writer."""

    name: str
    extensions: tuple[str, ...] = ()
    renderers: tuple[tuple[str, Render], ...] = ()

    def renderer(self, kind: str) -> Render | None:
        return dict(self.renderers).get(kind)


@dataclass(frozen=True)
class Registry:
    formats: tuple[OutputFormat, ...] = field(default=())

    def names(self, kind: str) -> tuple[str, ...]:
        """Formats that can render ``kind``, sorted."""
        return tuple(sorted(f.name for f in self.formats if f.renderer(kind) is not None))

    def renderer(self, name: str, kind: str) -> Render:
        for f in self.formats:
            if f.name == name and (render := f.renderer(kind)) is not None:
                return render
        choices = ", ".join(self.names(kind))
        raise InputError(f"unknown format {name!r} (choose from {choices})")

    def for_path(self, path: str, kind: str) -> str | None:
        """The format a file name asks for: the longest matching extension wins."""
        lowered = path.lower()
        best: tuple[int, str] | None = None
        for f in self.formats:
            if f.renderer(kind) is None:
                continue
            for ext in f.extensions:
                if lowered.endswith(ext) and (best is None or len(ext) > best[0]):
                    best = (len(ext), f.name)
        return best[1] if best else None

    def plan(self, outputs: Iterable[str], kind: str) -> list[tuple[str, str]]:
        """``-o`` entries as (format, path): ``FORMAT:PATH`` names the format, else the extension.

        A ``WORD:PATH`` whose word is no format is an error (``-o bogus:r.json`` wrote a file
        named ``bogus:r.json``), and so is one path given twice (only the last would be kept);
        a file whose name really has a colon is written as ``./bogus:r.json``.
        """
        planned = []
        names = self.names(kind)
        seen: dict[str, str] = {}
        for item in outputs:
            fmt, _, rest = item.partition(":")
            if rest and fmt in names:
                entry = (fmt, rest)
            elif rest and _FORMAT_WORD.fullmatch(fmt):
                raise InputError(
                    f"unknown format {fmt!r} in output {item!r} (choose from {', '.join(names)}; "
                    f"for a file of that name write ./{item})"
                )
            elif (by_extension := self.for_path(item, kind)) is not None:
                entry = (by_extension, item)
            else:
                raise InputError(
                    f"cannot tell the format of output {item!r} from its extension; write FORMAT:PATH "
                    f"(formats: {', '.join(names)})"
                )
            where = os.path.normpath(os.path.abspath(os.path.expanduser(entry[1])))
            if where in seen and entry[1] != "-":  # stdout twice: the CLI names both formats
                raise InputError(
                    f"output {entry[1]!r} is given twice ({seen[where]!r} and {item!r}): "
                    "each file gets one report"
                )
            seen[where] = item
            planned.append(entry)
        return planned


_FORMAT_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")


def _declared(module: object) -> tuple[OutputFormat, ...]:
    one = getattr(module, "FORMAT", None)
    many = getattr(module, "FORMATS", ())
    return ((one,) if isinstance(one, OutputFormat) else ()) + tuple(
        f for f in many if isinstance(f, OutputFormat)
    )


def merge(declared: Iterable[OutputFormat]) -> Registry:
    """Formats of one name become one: extensions united, renderers per kind (a kind twice is an error)."""
    by_name: dict[str, OutputFormat] = {}
    for f in declared:
        seen = by_name.get(f.name)
        if seen is None:
            by_name[f.name] = f
            continue
        clash = {k for k, _ in seen.renderers} & {k for k, _ in f.renderers}
        if clash:
            raise ValueError(f"format {f.name!r} declares a {sorted(clash)[0]} renderer twice")
        by_name[f.name] = OutputFormat(
            f.name,
            tuple(dict.fromkeys((*seen.extensions, *f.extensions))),
            (*seen.renderers, *f.renderers),
        )
    return Registry(tuple(by_name[n] for n in sorted(by_name)))


def registry() -> Registry:
    """Every format declared by a module of this package."""
    package = importlib.import_module(__package__ or "auditor.reports")
    declared: list[OutputFormat] = []
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        if info.ispkg or info.name == "formats":
            continue
        declared.extend(_declared(importlib.import_module(f"{package.__name__}.{info.name}")))
    return merge(declared)

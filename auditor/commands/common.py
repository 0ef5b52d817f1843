"""Options and helpers shared by several commands: engine connection, output, errors."""

from __future__ import annotations

import contextlib
import math
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from auditor.reports.formats import Registry

import click

from auditor.collectors.endpoints import DEFAULT_TIMEOUT, EngineSpec
from auditor.model.errors import AuditorError, InputError
from auditor.model.text import visible


class FiniteFloat(click.FloatRange):
    """A float range that also refuses ``nan`` and ``inf`` (``--timeout nan`` passed every
    comparison, so it was accepted)."""

    def convert(self, value, param, ctx):
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


def engine_options(func: Callable) -> Callable:
    """``--engine URL`` (repeatable) plus TLS settings and a timeout."""
    return _engine_options(func, repeatable=True)


def one_engine_options(func: Callable) -> Callable:
    """``--engine URL`` (once: the command reads one engine) plus TLS settings and a timeout."""
    return _engine_options(func, repeatable=False)


def _engine_options(func: Callable, repeatable: bool) -> Callable:
    # Both kinds collect every --engine given, so a second one is a clear error, not ignored.
    again = " (repeatable)" if repeatable else " (one engine)"
    options = [
        click.option(
            "--engine",
            "engines",
            multiple=True,
            metavar="URL",
            help=f"Docker engine to scan: unix://, tcp://, ssh://{again}. Default: DOCKER_HOST, the current docker context, or the local socket.",
        ),
        click.option("--tls-verify", is_flag=True, help="Use TLS and verify the engine's certificate."),
        click.option("--tlscacert", type=click.Path(dir_okay=False), help="CA certificate for --tls-verify."),
        click.option("--tlscert", type=click.Path(dir_okay=False), help="Client certificate for TLS."),
        click.option("--tlskey", type=click.Path(dir_okay=False), help="Client key for TLS."),
        click.option(
            "--timeout",
            type=FiniteFloat(min=0.1),
            default=DEFAULT_TIMEOUT,
            show_default=True,
            help="Seconds to wait for each engine request.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def engine_specs(engines, tls_verify, tlscacert, tlscert, tlskey, timeout) -> tuple[EngineSpec, ...]:
    return tuple(
        EngineSpec(
            url=url,
            tls_verify=tls_verify,
            ca_cert=tlscacert,
            client_cert=tlscert,
            client_key=tlskey,
            timeout=timeout,
        )
        for url in engines
    )


def fail(message: str, code: int) -> None:
    """Print one line to stderr and exit with a documented code. The message often quotes an
    input (a path, a service name), so control and bidi characters are shown escaped."""
    click.echo(f"auditor: error: {visible(message)}", err=True)
    sys.exit(code)


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Turn the tool's own errors into one line and their exit code; never a traceback."""
    try:
        yield
    except AuditorError as exc:
        fail(str(exc), exc.exit_code)


STDOUT = "-"
NO_OUTPUT = "none"  # `-f none`: no report on stdout


def write_rendered(path: str, render: Callable[[object, IO[str]], None], document: object) -> None:
    """Write one output, rendered straight into its stream (a report of tens of thousands of
    findings is never held in memory as one string): ``-`` is stdout; a regular file (or a
    new one) is replaced atomically (click's temp file in the same directory, then a rename;
    its mode kept; removed when rendering fails); anything else that exists (a symlink, a
    device such as /dev/stdout, a FIFO) is written in place, through the link, so it is never
    replaced by a regular file."""
    if path == STDOUT:
        render(document, sys.stdout)
        sys.stdout.flush()
        return
    regular = not os.path.islink(path) and (os.path.isfile(path) or not os.path.exists(path))
    try:
        if regular:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        with click.open_file(path, "w", encoding="utf-8", atomic=regular) as stream:
            render(document, stream)
    except OSError as exc:
        raise InputError(f"cannot write output: {exc.strerror or exc}", path) from None


def write_text_atomically(path: str, text: str) -> None:
    """:func:`write_rendered` for text already in hand."""

    def render(document: object, stream: IO[str]) -> None:
        stream.write(text)

    write_rendered(path, render, None)


def stdout_outputs(outputs: Sequence[str], fmt: str) -> tuple[str, ...]:
    """``-o -`` means the ``-f`` format on stdout: spelled ``FORMAT:-`` for the registry."""
    if fmt == NO_OUTPUT and STDOUT in outputs:
        raise InputError("-o - writes the -f format to stdout; with -f none name one: -o FORMAT:-")
    return tuple(f"{fmt}:{STDOUT}" if o == STDOUT else o for o in outputs)


def writes_stdout(planned: Sequence[tuple[str, str]]) -> bool:
    """True when an ``-o`` goes to stdout (then the ``-f`` rendering is not printed as well);
    two outputs cannot share stdout."""
    to_stdout = [fmt for fmt, path in planned if path == STDOUT]
    if len(to_stdout) > 1:
        raise InputError(f"only one output can go to stdout ('-'), got {', '.join(to_stdout)}")
    return bool(to_stdout)


def stdout_renderer(formats: Registry, fmt: str, kind: str) -> Callable[[object, IO[str]], None]:
    """The ``-f`` renderer; ``-f none`` writes nothing."""
    if fmt == NO_OUTPUT:
        return lambda document, stream: None
    return formats.renderer(fmt, kind)


def write_outputs(formats: Registry, planned: Sequence[tuple[str, str]], kind: str, document: object) -> None:
    """Render ``document`` once per planned ``(format, path)``."""
    for fmt, path in planned:
        write_rendered(path, formats.renderer(fmt, kind), document)


class FormatChoice(click.Choice):
    """``-f`` choices from the output-format registry, looked up only when click needs them
    (help, completion, validation), so building the CLI imports no reporter."""

    def __init__(self, kind: str, none: bool = False):
        self.kind = kind
        self.none = none  # also offer `none`: nothing on stdout
        self._names: tuple[str, ...] | None = None
        super().__init__((), case_sensitive=True)

    @property
    def choices(self) -> tuple[str, ...]:
        if self._names is None:
            from auditor.reports.formats import registry

            names = registry().names(self.kind)
            self._names = tuple(sorted((*names, NO_OUTPUT))) if self.none else names
        return self._names

    @choices.setter
    def choices(self, value: object) -> None:
        """click sets the choices in ``__init__``; they come from the registry instead."""

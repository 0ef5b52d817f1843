"""What a scan is asked to read: paths, engines and how compose files are interpreted."""

from __future__ import annotations

from dataclasses import dataclass, field

from auditor.collectors.endpoints import EngineSpec


@dataclass(frozen=True)
class ComposeOptions:
    """How compose files are read (see ``auditor.collectors.compose``)."""

    env_files: tuple[str, ...] = ()
    profiles: tuple[str, ...] = ()
    merge_files: tuple[str, ...] = ()  # --compose-file: one project from these, merged in order
    variables: tuple[tuple[str, str], ...] = ()  # --set VAR=VALUE, over the environment and .env
    all_profiles: bool = False  # --all-profiles: every service, whatever COMPOSE_PROFILES says


@dataclass(frozen=True)
class ScanRequest:
    paths: tuple[str, ...] = ()
    engines: tuple[EngineSpec, ...] = ()
    compose: ComposeOptions = field(default_factory=ComposeOptions)

    @property
    def default_engine(self) -> bool:
        """Nothing named at all: the local engine is scanned."""
        return not self.engines and not self.paths and not self.compose.merge_files

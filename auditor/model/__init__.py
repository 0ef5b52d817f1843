"""The ground floor: records every layer above shares, and nothing that reaches up.

Rules and third-party rule packs import from here: the normalized records
(``Container``, ``Network``, ``PortBinding``, ``Snapshot`` ...), ``Severity``, the rule types
(``RuleMeta``, ``Observation``, ``Rule``, ``Reference``) and the findings and scan result.
``inputs`` (the bounded file reader), ``redact`` and ``exit_codes`` are plain modules here too.
"""

from auditor.model.errors import AuditorError, InputError, TargetUnavailable
from auditor.model.findings import Finding, RuleError, ScanResult, TargetResult
from auditor.model.records import (
    ALL_INTERFACES_V4,
    ALL_INTERFACES_V6,
    Container,
    DaemonFacts,
    Endpoint,
    Mount,
    Network,
    Origin,
    PortBinding,
    Resource,
    Snapshot,
    SourceKind,
    Target,
)
from auditor.model.rule import Check, Observation, Reference, Rule, RuleMeta, Subject
from auditor.model.severity import ORDERED_DESC, Severity

__all__ = [
    "ALL_INTERFACES_V4",
    "ALL_INTERFACES_V6",
    "ORDERED_DESC",
    "AuditorError",
    "Check",
    "Container",
    "DaemonFacts",
    "Endpoint",
    "Finding",
    "InputError",
    "Mount",
    "Network",
    "Observation",
    "Origin",
    "PortBinding",
    "Reference",
    "Resource",
    "Rule",
    "RuleError",
    "RuleMeta",
    "ScanResult",
    "Severity",
    "Snapshot",
    "SourceKind",
    "Subject",
    "Target",
    "TargetResult",
    "TargetUnavailable",
]

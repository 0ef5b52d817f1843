"""The engine lab: isolated Docker engines and outside hosts on a lab LAN (docs/testing.md)."""

from .core import Lab, LabEngine, Macvlan, OutsideHost, Swarm
from .plan import EngineConfig, LabError, TcpApi
from .probe import Outcome, ProbeResult, Target

__all__ = [
    "EngineConfig",
    "Lab",
    "LabEngine",
    "LabError",
    "Macvlan",
    "Outcome",
    "OutsideHost",
    "ProbeResult",
    "Swarm",
    "Target",
    "TcpApi",
]

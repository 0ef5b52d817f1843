"""A lab owner for the clean-up tests: starts a small lab, says so, then waits to be killed.

Run as ``python tests/lab/lab_child.py``; prints one JSON line with the lab's facts when ready.
SIGTERM makes it clean up and exit 143; SIGKILL leaves its lab behind for the next start to reap.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from support.lab import EngineConfig, Lab  # noqa: E402


def main() -> None:
    with Lab([EngineConfig("e1", macvlan_parent=True)], outside=["laptop"]) as lab:
        engine = lab.engines["e1"]
        engine.client.containers.run(
            lab.image, "nc -ll -p 80 -e echo child", ports={"80/tcp": 18099}, detach=True, name="child-web"
        )
        facts = {
            "lab_id": lab.plan.lab_id,
            "directory": str(lab.plan.directory),
            "namespaces": list(lab.plan.namespaces),
            "dockerd": engine.pid,
            "containerd": engine.containerd_pid,
        }
        print(json.dumps(facts), flush=True)
        time.sleep(600)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(143)

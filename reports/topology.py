"""The network picture laid out: boxes, bars and lines with coordinates for the SVG template.

The picture's content is the model's ``Topology`` (``auditor.model.topology``): built from the
snapshots, or read back with a saved JSON result. ``layout`` turns one target into geometry.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from auditor.model.findings import Finding, ScanResult
from auditor.model.severity import Severity
from auditor.model.topology import TopoContainer, TopoTarget, topology_of

MAX_CONTAINERS = 80  # per target; the rest is listed as "not drawn"
MAX_PORTS = 4  # port chips per container box; the rest as "+N more"


# --------------------------------------------------------------------------- layout

BOX_W, BOX_GAP, MARGIN = 120, 18, 24
NAME_PX, TEXT_PX, MONO_PX = 7.8, 6.8, 6.9  # rough glyph widths used to size boxes
HOST_Y, HOST_H = 16, 34
BOX_Y = 104
BOX_HEAD, PORT_H = 40, 17
BAR_GAP, BAR_FIRST = 40, 46
NAME_CHARS = 26
ROW_WIDTH = 1100  # containers wrap into rows of at most this width
ROW_GAP = 26


def _short(text: str, limit: int = NAME_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _mode_text(c: TopoContainer) -> str:
    """The box's second line: what kind of thing it is and any unusual network mode."""
    mode = c.network_mode
    if c.joins:
        return f"{c.kind} · shares {c.joins}"
    if mode in ("host", "none"):
        return f"{c.kind} · network {mode}"
    return c.kind


@dataclass
class Mark:
    """Findings that concern one drawn element."""

    count: int = 0
    severity: Severity = Severity.INFO
    rules: list[str] = field(default_factory=list)

    def add(self, f: Finding) -> None:
        self.count += 1
        self.severity = max(self.severity, f.severity)
        if f.rule_id not in self.rules:
            self.rules.append(f.rule_id)

    def as_dict(self) -> dict[str, Any]:
        return {"count": self.count, "severity": self.severity.label, "rules": ", ".join(sorted(self.rules))}


def finding_marks(findings: Iterable[Finding], target: str) -> dict[tuple[str, str], dict[str, Any]]:
    """(resource kind, name) -> badge data for the open findings of one target."""
    marks: dict[tuple[str, str], Mark] = {}
    for f in findings:
        if f.resource.host != target or f.status != "open":
            continue
        kind = "container" if f.resource.kind == "service" else f.resource.kind
        marks.setdefault((kind, f.resource.name), Mark()).add(f)
    return {key: m.as_dict() for key, m in marks.items()}


def _order(containers: list[TopoContainer], net_rank: Mapping[str, int]) -> list[TopoContainer]:
    """Host-network containers first, then grouped by their most shared network."""

    def key(c: TopoContainer) -> tuple[int, int, str]:
        if c.exposure == "host":
            return (0, 0, c.name)
        ranks = [net_rank[n] for n in c.networks if n in net_rank]
        return (1, min(ranks) if ranks else len(net_rank), c.name)

    return sorted(containers, key=key)


def _box(c: TopoContainer, marks: Mapping[tuple[str, str], Mapping[str, Any]]) -> dict[str, Any]:
    """One container box, sized to its text; coordinates are relative to its row."""
    ports = c.ports
    chips = [
        {
            "text": _short(p.display, 30),
            "full": p.display,
            "exposure": p.exposure,
            "dy": BOX_HEAD + PORT_H * j - 4,
        }
        for j, p in enumerate(ports[:MAX_PORTS])
    ]
    more = len(ports) - len(chips)
    label = _short(c.name)
    mode = _short(_mode_text(c), 28)
    w = max(
        BOX_W,
        NAME_PX * len(label) + 34,
        TEXT_PX * len(mode) + 24,
        *(MONO_PX * len(str(ch["text"])) + 32 for ch in chips),
    )
    return {
        "w": round(w),
        "h": BOX_HEAD + PORT_H * (len(chips) + (1 if more else 0)) + (6 if chips else 0),
        "name": c.name,
        "label": label,
        "kind": c.kind,
        "mode": mode,
        "network_mode": c.network_mode + (f":{c.joins}" if c.joins else ""),
        "state": c.state,
        "exposure": c.exposure,
        "joins": c.joins,
        "networks": list(c.networks),
        "chips": chips,
        "more": more,
        "more_dy": BOX_HEAD + PORT_H * len(chips) - 4,
        "mark": marks.get(("container", c.name)),
        "resource": f"{c.kind}/{c.name}",
    }


def _wrap(boxes: list[dict[str, Any]], limit: float) -> list[list[dict[str, Any]]]:
    rows: list[list[dict[str, Any]]] = [[]]
    used = MARGIN
    for b in boxes:
        if rows[-1] and used + b["w"] + MARGIN > limit:
            rows.append([])
            used = MARGIN
        rows[-1].append(b)
        used += b["w"] + BOX_GAP
    return rows


def _rows(boxes: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Wrap boxes into rows no wider than ROW_WIDTH, balanced so the last row is not a stub."""
    rows = _wrap(boxes, ROW_WIDTH)
    total = sum(b["w"] + BOX_GAP for b in boxes) + 2 * MARGIN
    limit = total / len(rows)
    while limit < ROW_WIDTH:
        balanced = _wrap(boxes, limit)
        if len(balanced) == len(rows):
            return balanced
        limit += 20
    return rows


def layout(topo: TopoTarget, marks: Mapping[tuple[str, str], Mapping[str, Any]]) -> dict[str, Any]:
    """Coordinates for one target's picture.

    Containers are wrapped into rows; each row is a strip of its own: the host band on top
    (published ports and host-network containers connect to it), the container boxes, and
    below them a bar per network with a drop line from every member in that row.
    """
    # The host band stands for the "host" network; "none" connects nothing: neither is a bar.
    shown_nets = [n for n in topo.networks if n.driver not in ("host", "null")]
    hidden_nets = {n.name for n in topo.networks} - {n.name for n in shown_nets}
    members: dict[str, list[str]] = {n.name: [] for n in shown_nets}
    for c in topo.containers:
        for name in c.networks:
            if name not in hidden_nets:
                members.setdefault(name, []).append(c.name)
    net_info = {n.name: n for n in shown_nets}

    def default_bridge(name: str) -> bool:
        info = net_info.get(name)
        return bool(info and info.default_bridge)

    net_order = sorted(members, key=lambda n: (-len(members[n]), not default_bridge(n), n))
    net_rank = {n: i for i, n in enumerate(net_order)}

    everything = _order(list(topo.containers), net_rank)
    drawn, hidden = everything[:MAX_CONTAINERS], everything[MAX_CONTAINERS:]
    rows = _rows([_box(c, marks) for c in drawn])
    width = max(
        560, max((sum(b["w"] + BOX_GAP for b in row) - BOX_GAP + 2 * MARGIN for row in rows), default=0)
    )
    target = topo.target
    host_mark = marks.get(("host", target))
    bands: list[dict[str, Any]] = []
    boxes: list[dict[str, Any]] = []
    bars: list[dict[str, Any]] = []
    drops: list[dict[str, Any]] = []
    uplinks: list[dict[str, Any]] = []
    joins: list[dict[str, Any]] = []
    by_name: dict[str, dict[str, Any]] = {}
    top = 0
    for r, row in enumerate(rows):
        last = r == len(rows) - 1
        bands.append(
            {
                "x": MARGIN - 8,
                "y": top + HOST_Y,
                "w": width - 2 * MARGIN + 16,
                "h": HOST_H,
                "continued": r > 0,
                "mark": host_mark if r == 0 else None,
            }
        )
        x = MARGIN
        for b in row:
            b.update(x=x, y=top + BOX_Y)
            x += b["w"] + BOX_GAP
            by_name[b["name"]] = b
            boxes.append(b)
            if b["exposure"] != "unpublished":
                uplinks.append(
                    {
                        "x": b["x"] + b["w"] / 2,
                        "y1": top + HOST_Y + HOST_H,
                        "y2": b["y"],
                        "exposure": b["exposure"],
                    }
                )
        tallest = max((b["h"] for b in row), default=BOX_HEAD)
        in_row = {b["name"] for b in row}
        row_nets = [n for n in net_order if in_row & set(members[n]) or (last and not members[n])]
        slot: dict[str, int] = {}
        for i, name in enumerate(row_nets):
            y = top + BOX_Y + tallest + BAR_FIRST + i * BAR_GAP
            attached = [b for b in row if b["name"] in members[name]]
            info = net_info.get(name)
            label = _short(name, 40)
            x1 = min((b["x"] for b in attached), default=MARGIN) + 8
            x2 = max((b["x"] + b["w"] for b in attached), default=MARGIN + BOX_W) - 8
            x1 = max(MARGIN, min(x1, width - MARGIN - 8 * len(label) - 190))  # room for the label
            bars.append(
                {
                    "name": name,
                    "label": label,
                    "x1": x1,
                    "x2": max(x2, x1 + 40),
                    "y": y,
                    "members": len(members[name]),
                    "shared": len(members[name]) >= 2,
                    "elsewhere": len(members[name]) - len(attached) if attached else 0,
                    "default_bridge": bool(info and info.default_bridge),
                    "internal": bool(info and info.internal),
                    "driver": (info.driver if info else None) or "",
                    "icc": info.icc if info else None,
                    "mark": marks.get(("network", name)),
                    "resource": f"network/{name}",
                }
            )
            for b in attached:
                k = slot.get(b["name"], 0)
                slot[b["name"]] = k + 1
                drops.append({"x": b["x"] + 16 + k * 12, "y1": b["y"] + b["h"], "y2": y})
        top = top + BOX_Y + tallest + BAR_FIRST + max(len(row_nets) - 1, 0) * BAR_GAP + ROW_GAP
    for b in boxes:  # the dashed arc between two containers that share one namespace
        other = by_name.get(b.get("joins") or "")
        if other is not None:
            ax, bx = b["x"] + b["w"] - 30, other["x"] + 30
            joins.append(
                {"d": f"M{ax},{b['y']} C{ax},{b['y'] - 34} {bx},{other['y'] - 34} {bx},{other['y']}"}
            )
    return {
        "target": target,
        "label": _short(target, 60),
        "kind": topo.kind,
        "width": width,
        "height": top - ROW_GAP + 30,
        "bands": bands,
        "resource": f"host/{target}",
        "boxes": boxes,
        "bars": bars,
        "drops": drops,
        "uplinks": uplinks,
        "joins": joins,
        "hidden": [c.name for c in hidden],
        "counts": {
            "containers": len(everything),
            "networks": len(net_order),
            "shared": sum(1 for n in net_order if len(members[n]) >= 2),
        },
    }


def pictures(result: ScanResult) -> list[dict[str, Any]]:
    """Laid-out pictures for every target of a result, findings marked on their elements."""
    topo = result.topology or topology_of(result.snapshots)
    if topo is None:
        return []
    return [layout(t, finding_marks(result.findings, t.target)) for t in topo.targets]

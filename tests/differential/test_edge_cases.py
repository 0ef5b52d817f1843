"""Hand-written edge cases: our reader and the real compose CLI must agree on every one.

Each case is a set of files (merged in order with ``-f``) plus an environment. Agreement means
the same published and exposed ports, network modes, attached networks and created networks.
Invalid cases must be rejected by both.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from auditor.model.errors import InputError

from .oracle import cli_facts, our_facts, ours_or_error, run_cli

ALL_PORT_FORMS = """
services:
  web:
    image: nginx
    ports:
      - 22:22
      - "3000"
      - "3001-3003"
      - "8000:8000"
      - "9090-9091:8080-8081"
      - "49100:22"
      - "127.0.0.1:8001:8001"
      - "127.0.0.1:5000-5010:5000-5010"
      - "127.0.0.1::5000"
      - "6060:6060/udp"
      - "[::1]:6001:6001"
      - "::1:6000:6000"
      - "[::]:7000:7000"
      - "[2001:db8::1]::7001"
      - "12400-12500:1240"
      - "7002:7002/sctp"
      - "7003:7003/UDP"
      - 8080
      - target: 80
        host_ip: 127.0.0.1
        published: "8082"
        protocol: tcp
        mode: host
      - target: 81
        published: 8083
      - target: "82"
        published: "8084-8090"
        protocol: udp
        app_protocol: http
        name: web
      - target: 83
      - target: 84
        host_ip: "::1"
        published: 8091
    expose:
      - "3000"
      - 4000
      - "4001-4003/udp"
"""

CASES: dict[str, dict] = {
    "every documented port form": {"files": {"compose.yaml": ALL_PORT_FORMS}},
    "duplicates are merged like compose": {
        "files": {
            "compose.yaml": """
services:
  a:
    image: x
    ports: ["80", "80", "0.0.0.0::80", "8080:80", "0.0.0.0:8080:80", {target: 80, published: 8080}, "0:81"]
"""
        }
    },
    "network modes": {
        "files": {
            "compose.yaml": """
services:
  h: {image: x, network_mode: host}
  n: {image: x, network_mode: none}
  b: {image: x, network_mode: bridge, ports: ["8080:80"]}
  s: {image: x, network_mode: "service:h"}
  c: {image: x, network_mode: "container:abc"}
  d: {image: x}
"""
        }
    },
    "networks list, map, names, external, internal, priority": {
        "files": {
            "compose.yaml": """
name: Shop-App
services:
  web:
    image: x
    networks: [front, back]
  api:
    image: x
    networks:
      back:
        aliases: [api.internal]
        ipv4_address: 172.30.0.5
      ext:
      named:
        priority: 100
  lone:
    image: x
networks:
  front:
    driver: bridge
    driver_opts:
      com.docker.network.bridge.enable_icc: "false"
      com.docker.network.driver.mtu: 1400
  back:
    internal: true
    enable_ipv6: true
  ext:
    external: true
    name: corp-net
  named:
    name: fixed-name
  unused: {}
  default:
    driver: bridge
"""
        }
    },
    "interpolation forms": {
        "env": {"HOST_IP": "127.0.0.1", "EMPTY": "", "PORT": "9000", "NET": "bridge"},
        "files": {
            "compose.yaml": """
services:
  a:
    image: "x:${TAG:-latest}"
    network_mode: "${NET}"
    ports:
      - "${HOST_IP}:${PORT}:80"
      - "${UNSET_IP:-0.0.0.0}:${EMPTY:-8081}:81"
      - "${EMPTY-127.0.0.2}:8082:82"
      - "${PORT:+127.0.0.3}:8083:83"
      - "$PORT:84"
      - "${OUTER:-${PORT}}:85"
    labels:
      money: "$$HOME"
"""
        },
    },
    ".env beside the file, environment wins": {
        "env": {"B": "9002"},
        "files": {
            ".env": "A=9001\nB=1\n# comment\nexport C='127.0.0.1'\nD=\"${A}\"\n",
            "compose.yaml": """
services:
  a:
    image: x
    ports: ["${C}:${A}:80", "${B}:81", "${D}:82"]
""",
        },
    },
    "override file merged in order": {
        "files": {
            "compose.yaml": """
services:
  web:
    image: x
    ports: ["8080:80"]
    networks: [front]
  db:
    image: postgres
    ports: ["5432:5432"]
networks:
  front: {}
  back: {}
""",
            "compose.override.yaml": """
services:
  web:
    ports: ["127.0.0.1:9090:90"]
    networks:
      back:
  db:
    network_mode: host
    ports: !reset []
""",
        }
    },
    "override replaces with !override": {
        "files": {
            "compose.yaml": "services:\n  web:\n    image: x\n    ports: ['8080:80', '8443:443']\n",
            "compose.override.yaml": "services:\n  web:\n    ports: !override ['127.0.0.1:8080:80']\n",
        }
    },
    "extends in the same and another file": {
        "files": {
            "common.yaml": """
services:
  base:
    image: x
    ports: ["9000:9000"]
    networks: [shared]
networks:
  shared: {}
""",
            "compose.yaml": """
services:
  local-base:
    image: y
    expose: ["7000"]
  web:
    extends:
      file: common.yaml
      service: base
    ports: ["127.0.0.1:9001:9001"]
  worker:
    extends: local-base
    network_mode: host
networks:
  shared: {}
""",
        }
    },
    "profiles are all audited": {
        "files": {
            "compose.yaml": """
services:
  app: {image: x, ports: ["80:80"]}
  debug: {image: x, profiles: [debug], ports: ["5678:5678"]}
"""
        }
    },
    "yaml anchors and merge keys": {
        "files": {
            "compose.yaml": """
x-common: &common
  image: x
  ports: ["127.0.0.1:8000:8000"]
services:
  a:
    <<: *common
  b:
    <<: *common
    ports: ["8001:8001"]
"""
        }
    },
    "plain scalars with colons in flow mappings (YAML 1.2)": {
        "files": {
            "compose.yaml": """
services:
  a:
    image: x
    labels: {socket: unix:///run/x.sock, url: http://example.test:8080/}
    ports: [22:22, 127.0.0.1:80:80, "[::1]:443:443"]
"""
        }
    },
    "include, short and long syntax, with its own env file": {
        "args": ["compose.yaml"],
        "files": {
            "compose.yaml": """
include:
  - sub/db.yaml
  - path: [cache.yaml]
    env_file: cache.env
services:
  web: {image: x, ports: ["8080:80"], networks: [front]}
networks:
  front: {}
""",
            "sub/db.yaml": """
services:
  db: {image: postgres, ports: ["5432:5432"], networks: [back]}
networks:
  back: {internal: true}
""",
            "cache.yaml": """
services:
  cache: {image: redis, ports: ["${CACHE_PORT}:6379"]}
""",
            "cache.env": "CACHE_PORT=16379\n",
        },
    },
    "optional env_file, null command, sockets, privileged and capabilities": {
        "files": {
            "compose.yaml": """
services:
  vpn:
    image: x
    command:
    network_mode: host
    privileged: true
    cap_add: [net_admin, CAP_SYS_MODULE, NET_RAW]
    env_file:
      - path: absent.env
        required: false
    volumes:
      - /var/run/docker.sock:/var/run/docker.sock:ro
      - type: bind
        source: ./run/docker.sock
        target: /sock
"""
        }
    },
    "compose file written as JSON": {
        "files": {
            "compose.json": '{"services": {"a": {"image": "x", "ports": ["8080:80", {"target": 53, "protocol": "udp", "published": "53"}]}}}'
        }
    },
}

INVALID: dict[str, dict] = {
    "container range with a single host port": {
        "compose.yaml": "services:\n  a:\n    image: x\n    ports: ['8000:80-81']\n"
    },
    "unequal ranges": {"compose.yaml": "services:\n  a:\n    image: x\n    ports: ['8000-8002:80-81']\n"},
    "bad protocol": {"compose.yaml": "services:\n  a:\n    image: x\n    ports: ['80:80/icmp']\n"},
    "bad host ip": {"compose.yaml": "services:\n  a:\n    image: x\n    ports: ['300.1.1.1:80:80']\n"},
    "port out of range": {"compose.yaml": "services:\n  a:\n    image: x\n    ports: ['70000:80']\n"},
    "non-numeric port": {"compose.yaml": "services:\n  a:\n    image: x\n    ports: ['http:80']\n"},
    "empty container port": {"compose.yaml": "services:\n  a:\n    image: x\n    ports: ['8080:']\n"},
    "reversed range": {"compose.yaml": "services:\n  a:\n    image: x\n    ports: ['81-80']\n"},
    "missing required variable": {
        "compose.yaml": "services:\n  a:\n    image: x\n    ports: ['${PORT:?set PORT}:80']\n"
    },
    "unclosed brace": {"compose.yaml": "services:\n  a:\n    image: x\n    ports: ['${PORT:80']\n"},
    "yaml syntax error": {"compose.yaml": "services:\n  a:\n    image: x\n   ports: [\n"},
    "undefined network": {"compose.yaml": "services:\n  a:\n    image: x\n    networks: [nope]\n"},
    "network_mode with networks": {
        "compose.yaml": "services:\n  a:\n    image: x\n    network_mode: host\n    networks: [n]\nnetworks:\n  n: {}\n"
    },
    "no image and no build": {"compose.yaml": "services:\n  a:\n    ports: ['80:80']\n"},
    "depends_on an undefined service": {
        "compose.yaml": "services:\n  a:\n    image: x\n    depends_on: [b]\n"
    },
    "depends_on mapping, undefined service": {
        "compose.yaml": "services:\n  a:\n    image: x\n    depends_on:\n      b: {condition: service_started}\n"
    },
    "missing env_file": {"compose.yaml": "services:\n  a:\n    image: x\n    env_file: nope.env\n"},
    "environment empty": {"compose.yaml": "services:\n  a:\n    image: x\n    environment:\n"},
    "cap_add empty": {"compose.yaml": "services:\n  a:\n    image: x\n    cap_add:\n"},
    "undefined volume": {"compose.yaml": "services:\n  a:\n    image: x\n    volumes: ['data:/data']\n"},
    "undefined secret": {"compose.yaml": "services:\n  a:\n    image: x\n    secrets: [token]\n"},
    "network_mode of an undefined service": {
        "compose.yaml": "services:\n  a:\n    image: x\n    network_mode: service:b\n"
    },
    "unknown top-level key": {"compose.yaml": "services:\n  a:\n    image: x\nfoo: 1\n"},
    "empty mapping": {"compose.yaml": "{}\n"},
    "ports not a list": {"compose.yaml": "services:\n  a:\n    image: x\n    ports: '80:80'\n"},
    "include redefines a service": {
        "compose.yaml": "include: [other.yaml]\nservices:\n  a:\n    image: x\n",
        "other.yaml": "services:\n  a:\n    image: y\n",
    },
    "extends circular": {
        "compose.yaml": "services:\n  a:\n    image: x\n    extends: b\n  b:\n    image: x\n    extends: a\n"
    },
}


def _write(tmp_path: Path, files: dict[str, str], args: list[str] | None = None) -> list[str]:
    """Write the case's files; the compose files passed with -f are ``args`` or all of them."""
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return args or [n for n in files if n != ".env"]


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_agrees_with_compose_cli(tmp_path: Path, case: str) -> None:
    spec = CASES[case]
    env = spec.get("env", {})
    names = _write(tmp_path, spec["files"], spec.get("args"))
    cli = run_cli(tmp_path, names, env)
    assert cli.ok, cli.stderr
    ours = ours_or_error(tmp_path, names, env)
    assert not isinstance(ours, InputError), str(ours)
    assert ours.incomplete == ()
    assert our_facts(ours, tmp_path) == cli_facts(cli.config)


@pytest.mark.parametrize("case", list(INVALID), ids=list(INVALID))
def test_both_reject(tmp_path: Path, case: str) -> None:
    files = INVALID[case]
    names = _write(tmp_path, files, ["compose.yaml"] if "other.yaml" in files else None)
    cli = run_cli(tmp_path, names)
    assert not cli.ok, f"compose accepted it: {cli.config}"
    ours = ours_or_error(tmp_path, names)
    if isinstance(ours, InputError):  # malformed: exit 2
        assert ours.path == "compose.yaml"
    else:  # refused for want of context (a fragment): audited, marked incomplete (exit 3)
        assert ours.incomplete and all(gap.startswith("compose.yaml:") for gap in ours.incomplete)

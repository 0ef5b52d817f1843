# The auditor image: a virtualenv built from the project's wheel, run as a non-root user.
#
# Build it with scripts/build-image.sh, which needs no registry: it makes the base image from
# Debian's packages (debootstrap, then `docker import`), builds the wheel and the wheels of the
# dependencies, and runs `docker build` with them as the context (the build itself is offline).
# Any base with python3 and its venv module works too, e.g. --build-arg BASE=python:3.11-slim.
#
#   scripts/build-image.sh                       # -> auditor:0.1.0
#   docker run --rm -v "$PWD:/src:ro" auditor:0.1.0 scan /src
#   docker run --rm -e DOCKER_HOST=unix:///run/auditor-proxy/docker.sock \
#       -v /run/auditor-proxy:/run/auditor-proxy auditor:0.1.0 scan
ARG BASE=auditor-base/debian:bookworm
FROM ${BASE}

ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="auditor" \
      org.opencontainers.image.description="Security and performance auditing scanner for Docker networking" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0"

COPY wheels/ /tmp/wheels/
# --no-index: only the wheels of the context are installed, nothing is downloaded here.
RUN python3 -m venv /opt/auditor \
 && /opt/auditor/bin/pip install --no-cache-dir --no-index --find-links /tmp/wheels \
        "docker-net-auditor[postgres]==${VERSION}" \
 && rm -rf /tmp/wheels \
 && groupadd --gid 10001 auditor \
 && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin auditor \
 && mkdir -p /src /data && chown 10001:10001 /data

# The history store and platformdirs' data directory live under /data (mount a volume there).
ENV PATH=/opt/auditor/bin:$PATH \
    XDG_DATA_HOME=/data \
    PYTHONDONTWRITEBYTECODE=1
USER 10001:10001
WORKDIR /src
ENTRYPOINT ["auditor"]
CMD ["scan", "--help"]

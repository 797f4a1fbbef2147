# The `nginx-prometheus-exporter` workload image for local runs: Debian's
# prometheus-nginx-exporter (binary /usr/bin/prometheus-nginx-exporter), also on PATH under
# the upstream image's name, nginx-prometheus-exporter, which the charm's layer runs: the
# same layer then works with this image and with the upstream one in production.
# Pass `-web.listen-address` and `-nginx.scrape-uri` explicitly: it listens on all
# interfaces by default.
#
# Who runs the exporter: the charm's layer sets `user-id: 1001`, `group-id: 1001`, the
# numeric user the upstream image runs as (its Dockerfile: `FROM scratch`, `USER 1001:1001`,
# no /etc/passwd at all). Pebble needs no passwd entry for numeric ids, and this image keeps
# 1001 unallocated on purpose, so a local run proves the layer works where no name resolves.
#
# The package's system user `prometheus` is created first with a fixed uid/gid (the
# package's own postinst would pick the next free system id), so file ownership is the same
# in every build. The id must be in adduser's system range (100-999) or the postinst
# refuses the user; 999 is at the top, away from the ids packages allocate from the bottom.
# The exporter does not run as `prometheus` (the upstream image has no such user).
ARG BASE=docker.io/library/debian:bookworm
FROM $BASE
# The exporter release Debian bookworm ships; the build fails if the package differs.
ARG EXPORTER_VERSION=0.11.0
ARG EXPORTER_UID=999
# The upstream image's user and group id, which the charm's layer runs the exporter as.
ARG RUN_AS_ID=1001
ENV DEBIAN_FRONTEND=noninteractive
RUN set -eux; \
    groupadd --system --gid "${EXPORTER_UID}" prometheus; \
    useradd --system --uid "${EXPORTER_UID}" --gid prometheus --home-dir /var/lib/prometheus \
        --no-create-home --shell /usr/sbin/nologin prometheus; \
    apt-get update; \
    apt-get install -y --no-install-recommends prometheus-nginx-exporter; \
    apt-get clean; \
    rm -rf /var/lib/apt/lists/*; \
    ln -s /usr/bin/prometheus-nginx-exporter /usr/local/bin/nginx-prometheus-exporter; \
    nginx-prometheus-exporter --version 2>&1 | grep -F "version=${EXPORTER_VERSION}"; \
    test "$(id -u prometheus):$(id -g prometheus)" = "${EXPORTER_UID}:${EXPORTER_UID}"; \
    test -z "$(getent passwd "${RUN_AS_ID}")"; \
    test -z "$(getent group "${RUN_AS_ID}")"

ARG SOURCE=https://github.com/example/indico-charm-rs
LABEL org.opencontainers.image.title="nginx-prometheus-exporter" \
      org.opencontainers.image.description="Debian's nginx Prometheus exporter for the Indico charm's local substrate (run as 1001:1001, like the upstream image)" \
      org.opencontainers.image.version="${EXPORTER_VERSION}" \
      org.opencontainers.image.source="${SOURCE}"

# The `nginx-prometheus-exporter` workload image for local runs: Debian's
# prometheus-nginx-exporter (binary /usr/bin/prometheus-nginx-exporter), also on PATH under
# the upstream image's name, nginx-prometheus-exporter, which the charm's layer runs: the
# same layer then works with this image and with the upstream one in production.
# Pass `-web.listen-address` and `-nginx.scrape-uri` explicitly: it listens on all
# interfaces by default.
#
# The package's system user `prometheus` is created first with a fixed uid/gid (the
# package's own postinst would pick the next free system id), so file ownership is the same
# in every build. The id must be in adduser's system range (100-999) or the postinst
# refuses the user; 999 is at the top, away from the ids packages allocate from the bottom.
ARG BASE=docker.io/library/debian:bookworm
FROM $BASE
# The exporter release Debian bookworm ships; the build fails if the package differs.
ARG EXPORTER_VERSION=0.11.0
ARG EXPORTER_UID=999
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
    test "$(id -u prometheus):$(id -g prometheus)" = "${EXPORTER_UID}:${EXPORTER_UID}"

ARG SOURCE=https://github.com/example/indico-charm-rs
LABEL org.opencontainers.image.title="nginx-prometheus-exporter" \
      org.opencontainers.image.description="Debian's nginx Prometheus exporter for the Indico charm's local substrate" \
      org.opencontainers.image.version="${EXPORTER_VERSION}" \
      org.opencontainers.image.source="${SOURCE}"

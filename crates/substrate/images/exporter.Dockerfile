# The `nginx-prometheus-exporter` workload image for local runs: Debian's
# prometheus-nginx-exporter (binary /usr/bin/prometheus-nginx-exporter), also on PATH under
# the upstream image's name, nginx-prometheus-exporter, which the charm's layer runs: the
# same layer then works with this image and with the upstream one in production.
# Pass `-web.listen-address` and `-nginx.scrape-uri` explicitly: it listens on all
# interfaces by default.
ARG BASE=docker.io/library/debian:bookworm
FROM $BASE
ENV DEBIAN_FRONTEND=noninteractive
RUN set -eux; \
    apt-get update; \
    apt-get install -y --no-install-recommends prometheus-nginx-exporter; \
    apt-get clean; \
    rm -rf /var/lib/apt/lists/*; \
    ln -s /usr/bin/prometheus-nginx-exporter /usr/local/bin/nginx-prometheus-exporter; \
    nginx-prometheus-exporter --version

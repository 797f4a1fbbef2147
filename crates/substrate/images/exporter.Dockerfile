# The `nginx-prometheus-exporter` workload image for local runs: Debian's
# prometheus-nginx-exporter (binary /usr/bin/prometheus-nginx-exporter).
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
    /usr/bin/prometheus-nginx-exporter --version

# The `indico-nginx` workload image: Debian's nginx plus Indico's static files at
# /srv/indico/static, so nginx serves assets itself and proxies the rest to uWSGI.
#
# The charm pushes /etc/nginx/nginx.conf at runtime; this image only removes Debian's
# default site. nginx runs as root under Pebble (`nginx -g 'daemon off;'`) and its workers
# drop to `www-data` (set `user www-data;` in the pushed config), which can read the
# static tree (root-owned, world-readable).
#
# Production builds name a public base; the local substrate passes
# `--build-arg BASE=localhost/debian:bookworm`. Build context: the repository root (unused).
ARG BASE=docker.io/library/debian:bookworm
# The Indico release whose static files are served (also the image's version label).
ARG INDICO_VERSION=3.2.9

# Stage 1: take `indico/web/static` out of the Indico wheel (pinned by hash), without
# installing Indico or its ~100 dependencies.
FROM $BASE AS static
ARG INDICO_VERSION
ARG INDICO_WHEEL_SHA256=194d2e31ccaabd2b9af7809e67d60d942faee35a6b4de36f0c2c280a32ed84c3
ENV DEBIAN_FRONTEND=noninteractive PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
# A build host behind a TLS-inspecting proxy passes its CA bundle as build secret `host-ca`.
RUN --mount=type=secret,id=host-ca,required=false set -eux; \
    if [ -s /run/secrets/host-ca ]; then export PIP_CERT=/run/secrets/host-ca; fi; \
    apt-get update; \
    apt-get install -y --no-install-recommends ca-certificates python3 python3-venv; \
    python3 -m venv /tmp/venv; \
    printf 'indico==%s --hash=sha256:%s\n' "${INDICO_VERSION}" "${INDICO_WHEEL_SHA256}" > /tmp/requirements.txt; \
    /tmp/venv/bin/pip download --no-deps --only-binary=:all: --require-hashes \
        -r /tmp/requirements.txt -d /tmp/wheel; \
    mkdir -p /tmp/unpacked; \
    python3 -m zipfile -e /tmp/wheel/indico-${INDICO_VERSION}-py3-none-any.whl /tmp/unpacked; \
    mv /tmp/unpacked/indico/web/static /srv-static; \
    chmod -R u=rwX,go=rX /srv-static

# Stage 2: nginx with the static tree.
FROM $BASE
ENV DEBIAN_FRONTEND=noninteractive
RUN set -eux; \
    apt-get update; \
    apt-get install -y --no-install-recommends nginx; \
    apt-get clean; \
    rm -rf /var/lib/apt/lists/* /etc/nginx/sites-enabled/default; \
    nginx -v; \
    test "$(id -u www-data):$(id -g www-data)" = "33:33"
COPY --from=static /srv-static /srv/indico/static
# The service's start command: ends orphaned workers of a master that died, then execs
# nginx (see the script).
# (mode 0755 from the repository.)
COPY files/nginx/indico-nginx-run /usr/local/bin/indico-nginx-run

# Image metadata last, so changing it rebuilds no other layer. nginx's workers run as
# www-data, uid/gid 33 in every Debian (base-passwd), checked above.
ARG INDICO_VERSION
ARG SOURCE=https://github.com/example/indico-charm-rs
LABEL org.opencontainers.image.title="indico-nginx" \
      org.opencontainers.image.description="nginx with Indico ${INDICO_VERSION}'s static files, for the Indico charm's indico-nginx container" \
      org.opencontainers.image.version="${INDICO_VERSION}" \
      org.opencontainers.image.source="${SOURCE}"

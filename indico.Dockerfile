# The `indico` and `indico-celery` workload image: Indico + uWSGI in a venv, git and pip
# for the charm's customization repository and external plugins.
#
# Production builds name a public base; the local substrate passes
# `--build-arg BASE=localhost/debian:bookworm` (a debootstrapped image, no registry needed).
# Build context: the repository root (only files/indico/ is copied in).
#
# Layout the charm relies on (keep in sync with the charm's Pebble layers):
#   /srv/indico/.venv/bin/{indico,uwsgi,celery}  on PATH
#   /srv/indico/etc/indico.conf                  INDICO_CONFIG; reads everything from INDICO_* env
#   /srv/indico/etc/logging.yaml                 all logs to stderr (Pebble collects them)
#   /srv/indico/version                          one line, the Indico version (application-version-set)
#   /srv/indico/indico.wsgi                      uWSGI's wsgi-file (symlink into the venv)
#   /srv/indico/{archive,cache,custom,log,tmp}   owned by user indico
#   user/group indico, uid/gid 2000 (fixed so volumes and file ownership stay stable)
ARG BASE=docker.io/library/debian:bookworm
FROM $BASE

ARG INDICO_VERSION=3.2.9
ARG UWSGI_VERSION=2.0.31
# Indico's S3 storage backend, enabled by the charm as `storage_s3` when s3 is related.
ARG STORAGE_S3_VERSION=3.2.2
ARG INDICO_UID=2000

ENV DEBIAN_FRONTEND=noninteractive \
    LANG=C.UTF-8 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/srv/indico/.venv \
    PATH=/srv/indico/.venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    INDICO_CONFIG=/srv/indico/etc/indico.conf

# One layer: runtime packages stay, compilers and headers (needed only to build psycopg2
# and uWSGI) are purged again, apt lists and caches removed. libpython3.11 is named
# explicitly: uWSGI links against it, and purging python3-dev would auto-remove it. The venv is made from Debian's
# /usr/bin/python3 (readable by the unprivileged user) and keeps its bundled setuptools:
# Indico 3.2.9 imports pkg_resources, which setuptools >= 81 no longer ships.
#
# Build hosts behind a TLS-inspecting proxy may pass their CA bundle as the build secret
# `host-ca` (the local substrate does); it is used for pip only and never stored in a layer.
RUN --mount=type=secret,id=host-ca,required=false set -eux; \
    if [ -s /run/secrets/host-ca ]; then export PIP_CERT=/run/secrets/host-ca; fi; \
    apt-get update; \
    apt-get install -y --no-install-recommends \
        ca-certificates git python3 python3-venv libpq5 libpython3.11 \
        gcc libc6-dev python3-dev libpq-dev; \
    python3 -m venv /srv/indico/.venv; \
    /srv/indico/.venv/bin/pip install --no-cache-dir \
        "indico==${INDICO_VERSION}" "uwsgi==${UWSGI_VERSION}" \
        "indico-plugin-storage-s3==${STORAGE_S3_VERSION}"; \
    /srv/indico/.venv/bin/python -c "import pkg_resources, indico, indico_storage_s3"; \
    apt-get purge -y --auto-remove gcc libc6-dev python3-dev libpq-dev; \
    /srv/indico/.venv/bin/uwsgi --version; \
    /srv/indico/.venv/bin/python -c "import psycopg2"; \
    apt-get clean; \
    rm -rf /var/lib/apt/lists/* /root/.cache; \
    printf '%s\n' "${INDICO_VERSION}" > /srv/indico/version

RUN set -eux; \
    groupadd --system --gid "${INDICO_UID}" indico; \
    useradd --system --uid "${INDICO_UID}" --gid indico --home-dir /srv/indico \
        --no-create-home --shell /usr/sbin/nologin indico; \
    install -d -o indico -g indico -m 0755 \
        /srv/indico/archive /srv/indico/cache /srv/indico/custom /srv/indico/log /srv/indico/tmp; \
    install -d -o root -g indico -m 0755 /srv/indico/etc; \
    chown indico:indico /srv/indico; \
    ln -s "$(/srv/indico/.venv/bin/python -c 'import indico, os; print(os.path.dirname(indico.__file__))')/web/indico.wsgi" \
        /srv/indico/indico.wsgi; \
    test -f /srv/indico/indico.wsgi

# The charm's CLI plugins (autocreate, anonymize); pip's isolated build fetches setuptools
# for the build only, the venv's own setuptools stays.
COPY files/indico/plugins /tmp/indico-charm-cli
RUN --mount=type=secret,id=host-ca,required=false set -eux; \
    if [ -s /run/secrets/host-ca ]; then export PIP_CERT=/run/secrets/host-ca; fi; \
    /srv/indico/.venv/bin/pip install --no-cache-dir --no-deps /tmp/indico-charm-cli; \
    rm -rf /tmp/indico-charm-cli /root/.cache; \
    /srv/indico/.venv/bin/python -c "import pkg_resources, indico_charm_cli.autocreate"

# Configuration last: editing it rebuilds only this layer, not the venv.
COPY --chown=root:root files/indico/indico.conf files/indico/logging.yaml /srv/indico/etc/

# Image metadata last, so changing it rebuilds no other layer. SOURCE is where this
# Dockerfile lives; override it when building from a fork.
ARG SOURCE=https://github.com/example/indico-charm-rs
LABEL org.opencontainers.image.title="indico" \
      org.opencontainers.image.description="Indico ${INDICO_VERSION} under uWSGI, for the Indico charm's indico and indico-celery containers" \
      org.opencontainers.image.version="${INDICO_VERSION}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.licenses="MIT"

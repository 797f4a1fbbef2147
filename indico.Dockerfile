# The `indico` and `indico-celery` workload image: Indico + uWSGI in a venv, git and pip
# for the charm's customization repository and external plugins, SAML sign-on
# (flask-multipass's `saml` providers: python3-saml, xmlsec, lxml) and Flower as the
# Celery metrics exporter, in a venv of its own.
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
#   /srv/indico/indico.wsgi                      uWSGI's wsgi-file (files/indico/indico.wsgi)
#   /srv/indico/{archive,cache,custom,log,tmp}   owned by user indico
#   /srv/flower/.venv/bin/celery                 Flower (`celery flower`), NOT on PATH
#   /srv/flower/flowerconfig.py                  Flower's settings: metrics only, UI and API locked
#   user/group indico, uid/gid 2000 (fixed so volumes and file ownership stay stable)
ARG BASE=docker.io/library/debian:bookworm
FROM $BASE

ARG INDICO_VERSION=3.2.9
ARG UWSGI_VERSION=2.0.31
# Indico's S3 storage backend, enabled by the charm as `storage_s3` when s3 is related.
ARG STORAGE_S3_VERSION=3.2.2
# SAML: Indico 3.2.9 pins flask-multipass 0.4.9, whose `saml` extra wants python3-saml
# 1.10.x; lxml is Indico's own pin. xmlsec 1.3.14 is the last release that its maintainers
# recommend for Python <= 3.12 (1.3.15+ fail their libxml2 version check against many lxml builds).
ARG LXML_VERSION=4.9.2
ARG XMLSEC_VERSION=1.3.14
# The Celery exporter, in /srv/flower/.venv: its own Celery/kombu cannot move Indico's pins.
ARG FLOWER_VERSION=2.2.0
ARG FLOWER_CELERY_VERSION=5.5.3
ARG INDICO_UID=2000

ENV DEBIAN_FRONTEND=noninteractive \
    LANG=C.UTF-8 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/srv/indico/.venv \
    PATH=/srv/indico/.venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    INDICO_CONFIG=/srv/indico/etc/indico.conf

# One layer: runtime packages stay, compilers and headers (needed only to build psycopg2,
# uWSGI, lxml and xmlsec) are purged again, apt lists and caches removed. The runtime
# libraries are named explicitly so purging their -dev packages cannot auto-remove them:
# libpython3.11 (uWSGI links it), libxml2/libxslt1.1 (lxml), libxmlsec1 + libxmlsec1-openssl
# (xmlsec). The venv is made from Debian's /usr/bin/python3 (readable by the unprivileged
# user) and keeps its bundled setuptools: Indico 3.2.9 imports pkg_resources, which
# setuptools >= 81 no longer ships.
#
# The lxml/xmlsec trap: lxml's binary wheels carry a private static libxml2, xmlsec links
# the system's; two libxml2 copies in one process make xmlsec refuse to load ("lxml & xmlsec
# libxml2 library version mismatch") or, worse, corrupt documents passed between them. Both
# are built here from source against Debian's one libxml2 (lxml first, then everything else
# with lxml pinned by a constraint, which also reaches xmlsec's isolated build), and the
# build checks that both extension modules link the same shared libxml2.so.2. lxml 4.9.2 has
# no pyproject.toml: --use-pep517 builds it with setuptools and wheel in pip's isolated
# environment, none of which stays in the venv.
#
# Build hosts behind a TLS-inspecting proxy may pass their CA bundle as the build secret
# `host-ca` (the local substrate does); it is used for pip only and never stored in a layer.
RUN --mount=type=secret,id=host-ca,required=false set -eux; \
    if [ -s /run/secrets/host-ca ]; then export PIP_CERT=/run/secrets/host-ca; fi; \
    apt-get update; \
    apt-get install -y --no-install-recommends \
        ca-certificates git python3 python3-venv libpq5 libpython3.11 \
        libxml2 libxslt1.1 libxmlsec1 libxmlsec1-openssl \
        gcc libc6-dev python3-dev libpq-dev \
        libxml2-dev libxslt1-dev libxmlsec1-dev pkg-config; \
    python3 -m venv /srv/indico/.venv; \
    /srv/indico/.venv/bin/pip wheel --no-cache-dir --no-deps --no-binary lxml --use-pep517 \
        --wheel-dir /tmp/wheels "lxml==${LXML_VERSION}"; \
    /srv/indico/.venv/bin/pip install --no-cache-dir --no-deps /tmp/wheels/lxml-*.whl; \
    printf 'lxml==%s\n' "${LXML_VERSION}" > /tmp/pip-constraints.txt; \
    export PIP_CONSTRAINT=/tmp/pip-constraints.txt; \
    /srv/indico/.venv/bin/pip install --no-cache-dir --no-binary xmlsec \
        "indico==${INDICO_VERSION}" "uwsgi==${UWSGI_VERSION}" \
        "indico-plugin-storage-s3==${STORAGE_S3_VERSION}" \
        "flask-multipass[saml]" "xmlsec==${XMLSEC_VERSION}"; \
    unset PIP_CONSTRAINT; \
    /srv/indico/.venv/bin/python -c "import pkg_resources, indico, indico_storage_s3"; \
    apt-get purge -y --auto-remove gcc libc6-dev python3-dev libpq-dev \
        libxml2-dev libxslt1-dev libxmlsec1-dev pkg-config; \
    /srv/indico/.venv/bin/uwsgi --version; \
    /srv/indico/.venv/bin/python -c "import psycopg2"; \
    /srv/indico/.venv/bin/python -c "import xmlsec, lxml.etree; from onelogin.saml2.auth import OneLogin_Saml2_Auth; from flask_multipass.providers.saml import SAMLAuthProvider, SAMLIdentityProvider; print('lxml', lxml.etree.LXML_VERSION, 'libxml2', lxml.etree.LIBXML_VERSION, 'xmlsec', xmlsec.__version__)"; \
    site="$(/srv/indico/.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"; \
    for module in "$site"/lxml/etree.*.so "$site"/xmlsec.*.so; do \
        ldd "$module" | grep -q '/libxml2\.so\.2 '; \
    done; \
    apt-get clean; \
    rm -rf /var/lib/apt/lists/* /root/.cache /tmp/wheels /tmp/pip-constraints.txt; \
    printf '%s\n' "${INDICO_VERSION}" > /srv/indico/version

# Flower, the Celery metrics exporter (`celery flower`, /metrics), in its own root-owned
# venv: no compiler needed (all wheels), and nothing it installs reaches Indico's venv.
RUN --mount=type=secret,id=host-ca,required=false set -eux; \
    if [ -s /run/secrets/host-ca ]; then export PIP_CERT=/run/secrets/host-ca; fi; \
    python3 -m venv /srv/flower/.venv; \
    /srv/flower/.venv/bin/pip install --no-cache-dir \
        "flower==${FLOWER_VERSION}" "celery[redis]==${FLOWER_CELERY_VERSION}"; \
    /srv/flower/.venv/bin/celery --version; \
    /srv/flower/.venv/bin/python -c "import flower, redis"; \
    rm -rf /root/.cache

RUN set -eux; \
    groupadd --system --gid "${INDICO_UID}" indico; \
    useradd --system --uid "${INDICO_UID}" --gid indico --home-dir /srv/indico \
        --no-create-home --shell /usr/sbin/nologin indico; \
    install -d -o indico -g indico -m 0755 \
        /srv/indico/archive /srv/indico/cache /srv/indico/custom /srv/indico/log /srv/indico/tmp; \
    install -d -o root -g indico -m 0755 /srv/indico/etc; \
    chown indico:indico /srv/indico

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
COPY --chown=root:root files/indico/flowerconfig.py /srv/flower/flowerconfig.py
# Indico's application, with its webpack manifest loaded before the first request (the
# file says why).
COPY --chown=root:root files/indico/indico.wsgi /srv/indico/indico.wsgi

# Image metadata last, so changing it rebuilds no other layer. SOURCE is where this
# Dockerfile lives; override it when building from a fork.
ARG SOURCE=https://github.com/example/indico-charm-rs
LABEL org.opencontainers.image.title="indico" \
      org.opencontainers.image.description="Indico ${INDICO_VERSION} under uWSGI with SAML sign-on, and Flower as Celery exporter, for the Indico charm's indico and indico-celery containers" \
      org.opencontainers.image.version="${INDICO_VERSION}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.licenses="MIT"

# Flower's settings in the Indico image (/srv/flower/flowerconfig.py, `--conf`): Flower runs
# in the `indico-celery` container as the Celery metrics exporter for Prometheus, nothing else.
#
# Flower reads this file with tornado's `parse_config_file` (exec() of the file): every
# top-level name that is a Flower option sets it, other names are ignored. The broker comes
# from the environment (`CELERY_BROKER_URL`, set by the charm's layer), the port and the
# address from the command line.
#
# - /metrics and /healthcheck answer without authentication (Flower never asks there).
# - Everything else (the web UI, which shows task arguments and results, and the HTTP API,
#   which can shut workers down or revoke tasks) needs HTTP basic auth with a password drawn
#   at random on each start and never written anywhere: nobody can log in.
# - Flower enables task events on the workers itself (`enable_events`, every 5 s), so the
#   task counters fill without `--task-events` on the worker.
# - A worker without a heartbeat for `purge_offline_workers` seconds (killed, its pod gone)
#   loses its series, so a crashed worker does not stay `flower_worker_online 1`; a worker
#   that stops cleanly reports 0 until then.

import secrets as _secrets

basic_auth = ['metrics-only:' + _secrets.token_urlsafe(32)]
purge_offline_workers = 120
# Tasks kept in memory for the (locked) UI; the counters do not depend on it.
max_tasks = 1000
persistent = False

"""Indico database migrations, run by the charm's leader in the indico container.

Pushed to `python3 -` on stdin by the charm (src/migrations.rs); reads the same INDICO_*
environment as the indico service. Exit codes: 0 done, 3 required extensions are missing
and cannot be created with this user's privileges, anything else a failure.

- A PostgreSQL advisory lock serialises runs: two units (or a leader change mid-run) never
  migrate at the same time; the second waits, then finds the schema current.
- An empty database (no `alembic_version` table) gets `indico db prepare`; an existing one
  `indico db upgrade` and `indico db --all-plugins upgrade`.
"""

import os
import subprocess
import sys

import psycopg2

# Any constant both runs agree on; "indico" in ASCII.
LOCK_ID = 0x696E6469636F
EXTENSIONS = ("pg_trgm", "unaccent")
EXIT_MISSING_EXTENSIONS = 3


def indico(*args):
    print("running: indico " + " ".join(args), flush=True)
    subprocess.run(["indico", *args], check=True)


def main():
    conn = psycopg2.connect(os.environ["INDICO_SQLALCHEMY_DATABASE_URI"])
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_lock(%s)", (LOCK_ID,))
        missing = []
        for extension in EXTENSIONS:
            try:
                # Trusted extensions (PostgreSQL >= 13) need only CREATE on the database;
                # an already created one needs no privilege at all.
                cur.execute("CREATE EXTENSION IF NOT EXISTS " + extension)
            except psycopg2.Error as error:
                print(f"cannot create extension {extension}: {error.pgerror}", file=sys.stderr)
                missing.append(extension)
        if missing:
            print("missing extensions: " + ",".join(missing), flush=True)
            return EXIT_MISSING_EXTENSIONS
        cur.execute("SELECT to_regclass('public.alembic_version') IS NOT NULL")
        populated = cur.fetchone()[0]
        if populated:
            indico("db", "upgrade")
            indico("db", "--all-plugins", "upgrade")
        else:
            indico("db", "prepare")
        cur.execute("SELECT pg_advisory_unlock(%s)", (LOCK_ID,))
    conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

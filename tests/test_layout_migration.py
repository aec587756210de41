"""A database made before the package move (issue 9) keeps working after it.

The apps moved under `trials/` and `visits/` but kept their Django labels, so their tables,
migrations and content types must be the same. This builds a PostgreSQL database with the code
of the last commit before the move (its migrations, its protocol loader), then points the
current code at it: the migrations apply, none is missing afterwards, and the stored studies and
their history are read back (reloading the same files adds no version).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from django.db import connection

# The last commit with the old layout (top-level domain/, labs/, endpoints/, randomization/, ...).
COMMIT_BEFORE_MOVE = "377e574"
REPO = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.postgres


def _admin_dsn() -> str:
    settings = connection.settings_dict
    return (
        f"host={settings['HOST'] or '127.0.0.1'} port={settings['PORT'] or 5432} "
        f"user={settings['USER']} dbname=postgres"
    )


def _url(database: str) -> str:
    settings = connection.settings_dict
    host = settings["HOST"] or "127.0.0.1"
    port = settings["PORT"] or 5432
    password = f":{settings['PASSWORD']}" if settings["PASSWORD"] else ""
    return f"postgres://{settings['USER']}{password}@{host}:{port}/{database}"


# The old tree runs with the project's own virtual environment, whose editable install of the
# current code would otherwise supply any module the old tree lacks (e.g. `visits.templatetags`,
# found by Django's template checks, which would drag the moved models in under the `visits`
# label). Its import hook is taken out first, so the old code sees only itself.
RUN_ALONE = (
    "import runpy, sys; "
    "sys.meta_path[:] = [f for f in sys.meta_path "
    "if not getattr(f, '__module__', '').startswith('__editable__')]; "
    "sys.argv = ['manage.py', *sys.argv[1:]]; "
    "runpy.run_path('manage.py', run_name='__main__')"
)


def _manage(tree: Path, database: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": _url(database), "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    command = [sys.executable, "manage.py"] if tree == REPO else [sys.executable, "-c", RUN_ALONE]
    return subprocess.run(
        [*command, *args],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture
def database_from_old_layout(tmp_path):
    if connection.vendor != "postgresql":
        pytest.fail("This test needs PostgreSQL (DATABASE_URL=postgres://...), as CI runs it.")
    if not (REPO / ".git").exists():
        pytest.fail("This test needs the git history (run it from a clone of the repository).")
    old_tree = tmp_path / "before-move"
    old_tree.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", COMMIT_BEFORE_MOVE],
        capture_output=True,
        check=True,
    )
    subprocess.run(["tar", "-x", "-C", str(old_tree)], input=archive.stdout, check=True)
    database = f"ecrf_layout_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(_admin_dsn(), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{database}"')
    try:
        yield old_tree, database
    finally:
        with psycopg.connect(_admin_dsn(), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        shutil.rmtree(old_tree, ignore_errors=True)


def _rows(database: str, sql: str) -> list[tuple]:
    dsn = _admin_dsn().replace("dbname=postgres", f"dbname={database}")
    with psycopg.connect(dsn) as conn:
        return conn.execute(sql).fetchall()


@pytest.mark.django_db
def test_database_built_before_the_move_needs_no_migration_after_it(database_from_old_layout):
    old_tree, database = database_from_old_layout
    built = _manage(old_tree, database, "migrate", "--noinput")
    assert built.returncode == 0, built.stderr
    loaded = _manage(old_tree, database, "load_protocol", "--all")
    assert loaded.returncode == 0, loaded.stderr
    before = _rows(
        database,
        "select registry_id, (select count(*) from trials_historicalstudy h where h.id = s.id) "
        "from trials_study s order by registry_id",
    )
    content_types_before = _rows(
        database, "select app_label, model from django_content_type order by 1, 2"
    )

    # The current code on the same database: only migrations written after the move apply (the
    # moved apps' own are recognised by their unchanged labels), and then nothing is missing.
    upgraded = _manage(REPO, database, "migrate", "--noinput")
    assert upgraded.returncode == 0, upgraded.stdout + upgraded.stderr
    check = _manage(REPO, database, "migrate", "--check")
    assert check.returncode == 0, check.stdout + check.stderr
    missing = _manage(REPO, database, "makemigrations", "--check", "--dry-run")
    assert missing.returncode == 0, missing.stdout + missing.stderr
    # Reloading the same files through the moved code is recognised as the same versions.
    reloaded = _manage(REPO, database, "load_protocol", "--all")
    assert reloaded.returncode == 0, reloaded.stderr

    after = _rows(
        database,
        "select registry_id, (select count(*) from trials_historicalstudy h where h.id = s.id) "
        "from trials_study s order by registry_id",
    )
    assert after == before
    assert [registry_id for registry_id, _ in after] == [
        "NCT03304288",
        "NCT03918265",
        "NCT05471050",
        "NCT05694130",
    ]
    # Every model of the old layout keeps its content type (and so its permissions); models added
    # since may come on top.
    content_types_after = _rows(
        database, "select app_label, model from django_content_type order by 1, 2"
    )
    assert set(content_types_before) <= set(content_types_after)
    assert len(content_types_before) == 73

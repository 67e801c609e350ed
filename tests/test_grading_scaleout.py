"""`make grade`'s scale-out options, refused clearly when wrong: a --db URL the course does not support, a
database or Dask scheduler that can't be reached, a malformed --cluster. (Grading on a LocalCluster and into
PostgreSQL, compared with a serial run: tests/test_grading.py.)"""

import pytest
from nbtools import free_port

from course_lib.grading import driver as grading
from course_lib.grading import scaleout


def _main_error(argv, capsys) -> str:
    with pytest.raises(SystemExit) as info:
        grading.main(argv)
    assert info.value.code == 2
    return capsys.readouterr().err


@pytest.mark.parametrize("url", ["mongodb://db/convnet", "gradebook.db", "mysql://u@h/db"])
def test_an_unsupported_db_url_says_what_was_expected_and_what_came(url, capsys):
    err = _main_error(["--db", url], capsys)
    assert "--db must be a database URL" in err and repr(url) in err, err


def test_a_malformed_cluster_says_what_was_expected(capsys):
    err = _main_error(["--cluster", "remote:4"], capsys)
    assert "--cluster must be local:N" in err and "'remote:4'" in err, err


def test_scheduler_and_cluster_exclude_each_other(capsys):
    err = _main_error(["--cluster", "local:2", "--scheduler", "tcp://127.0.0.1:8786"], capsys)
    assert "not allowed with" in err, err


def test_postgresql_urls_get_the_installed_driver_and_hide_passwords():
    pytest.importorskip("psycopg")
    assert scaleout.check_db_url("postgresql://u:pw@h/db") == "postgresql+psycopg://u:pw@h/db"
    assert scaleout.check_db_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"
    assert scaleout.check_db_url("sqlite:///gradebook.db") == "sqlite:///gradebook.db"
    assert scaleout.masked("postgresql://u:secret@h:5432/db") == "postgresql://u:***@h:5432/db"


def test_an_unreachable_database_fails_before_grading_and_hides_the_password(tmp_path):
    pytest.importorskip("psycopg")
    (tmp_path / "submitted").mkdir()
    with pytest.raises(RuntimeError, match="cannot connect to the gradebook database") as info:
        grading.grade_class(tmp_path, db=f"postgresql://grader:secret@127.0.0.1:{free_port()}/gradebook")
    assert "secret" not in str(info.value) and ":***@" in str(info.value), info.value


def test_an_unreachable_scheduler_names_the_address(tmp_path):
    pytest.importorskip("distributed")
    (tmp_path / "submitted").mkdir()
    address = f"tcp://127.0.0.1:{free_port()}"
    with pytest.raises(RuntimeError, match="cannot reach the Dask scheduler") as info:
        grading.grade_class(tmp_path, scheduler=address, connect_timeout_s=2)
    assert address in str(info.value) and "dask scheduler" in str(info.value), info.value


def test_packed_files_cannot_leave_the_course_folder(tmp_path):
    scaleout.unpack({"submitted/a/00/x.ipynb": b"{}"}, tmp_path)
    assert (tmp_path / "submitted/a/00/x.ipynb").read_bytes() == b"{}"
    with pytest.raises(ValueError, match="must stay inside"):
        scaleout.unpack({"../escaped.txt": b"x"}, tmp_path / "course")
    assert scaleout.pack(tmp_path / "submitted", under="s") == {"s/a/00/x.ipynb": b"{}"}

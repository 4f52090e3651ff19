"""Every `groupcast` path ends bad input in one line on stderr and a non-zero exit, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def groupcast(
    cwd: Path, *args: str, stdin: str = "", **env: str
) -> subprocess.CompletedProcess[str]:
    keep = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
    return subprocess.run(
        [sys.executable, "-m", "bots.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env={**keep, "PYTHONPATH": str(ROOT), **env},
        cwd=cwd,
        timeout=60,
        check=False,
    )


def one_line(done: subprocess.CompletedProcess[str]) -> str:
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "Traceback" not in done.stderr
    return lines[0]


def test_version_names_the_package(tmp_path: Path) -> None:
    done = groupcast(tmp_path, "--version")
    assert done.returncode == 0
    assert done.stdout.startswith("groupcast ")


@pytest.mark.parametrize(
    ("args", "env", "says"),
    [
        (["shell", "--script", "/nonexistent"], {}, "--script: cannot read /nonexistent"),
        (["shell", "--now", "yesterday"], {}, "--now: “yesterday” is not a date and time"),
        (["migrate"], {"DATABASE_URL": "mysqll://x"}, "DATABASE_URL: 'mysqll' is not a database"),
        (
            ["doctor"],
            {"DATABASE_URL": "postgres://nobody@127.0.0.1:9/x"},
            "DATABASE_URL: cannot reach",
        ),
        (["slack"], {}, "SLACK_BOT_TOKEN is not set"),
        (["discord"], {}, "DISCORD_TOKEN is not set"),
        (
            ["discord"],
            {"DISCORD_TOKEN": "x", "DISCORD_API_URL": "http://127.0.0.1:9"},
            "cannot reach Discord at http://127.0.0.1:9",
        ),
        (["slack"], {"LOG_FORMAT": "xml"}, "LOG_FORMAT:"),
        (
            ["migrate"],
            {"DATABASE_URL": "sqlite:///nonexistent/dir/x.db"},
            "DATABASE_URL: the directory /nonexistent/dir does not exist",
        ),
        (
            ["shell", "--database", "sqlite:///nonexistent/x.db"],
            {},
            "--database: the directory /nonexistent does not exist",
        ),
        (["shell", "--database", "bogus"], {}, "--database: 'bogus' is not a database"),
        (["migrate"], {"DATABASE_URL": "sqlite:///"}, "DATABASE_URL: / is a directory"),
    ],
    ids=[
        "script",
        "now",
        "mysql",
        "db-down",
        "slack-token",
        "discord-token",
        "discord-down",
        "log",
        "db-dir",
        "shell-db-dir",
        "shell-db-scheme",
        "db-is-dir",
    ],
)
def test_bad_input_ends_in_one_line_and_exit_2(
    tmp_path: Path, args: list[str], env: dict[str, str], says: str
) -> None:
    done = groupcast(tmp_path, *args, **env)
    assert done.returncode == 2
    assert says in one_line(done)


def test_a_script_with_refused_lines_exits_1_and_counts_them(tmp_path: Path) -> None:
    script = ":advance 9999999d\n:advance 10m\n/ask-avail frontend hi\n/community list\n"
    done = groupcast(tmp_path, "shell", "--script", "-", stdin=script)
    assert done.returncode == 1
    assert one_line(done) == "groupcast: 2 lines of the script failed (lines 1, 3)"
    assert "too far: the clock moves at most 90d" in done.stdout
    assert "(clock moved 10m" in done.stdout  # the session went on after the refusal
    assert "Did you mean /ask-available?" in done.stdout


def test_why_and_cancel_of_an_ask_not_yours_count_as_failures(tmp_path: Path) -> None:
    script = "/community list\n/ask-available why 99\n/ask-available cancel 99\n"
    done = groupcast(tmp_path, "shell", "--script", "-", stdin=script)
    assert done.returncode == 1
    assert one_line(done) == "groupcast: 2 lines of the script failed (lines 2, 3)"
    assert "Ask #99 isn't yours to read" in done.stdout


def test_doctor_on_a_database_never_migrated_says_so_and_creates_nothing(tmp_path: Path) -> None:
    done = groupcast(tmp_path, "doctor")
    assert done.returncode == 2
    expected = "groupcast: the database has no groupcast tables: run groupcast migrate"
    assert one_line(done) == expected
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "empty.sqlite3").touch()
    done = groupcast(tmp_path, "doctor", DATABASE_URL="sqlite://empty.sqlite3")
    assert done.returncode == 2
    assert one_line(done) == expected


def test_a_reader_that_goes_away_ends_the_shell_quietly(tmp_path: Path) -> None:
    """`groupcast shell --script - | head -2`: no traceback, 141 as for any SIGPIPE'd writer."""
    keep = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
    shell = subprocess.Popen(
        [sys.executable, "-m", "bots.cli", "shell", "--script", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**keep, "PYTHONPATH": str(ROOT)},
        cwd=tmp_path,
    )
    assert shell.stdin is not None and shell.stdout is not None and shell.stderr is not None
    shell.stdin.write(b"/community list\n:users\n" * 50)
    shell.stdin.close()
    shell.stdout.readline()
    shell.stdout.close()  # the reader leaves after one line
    assert shell.wait(timeout=60) == 141
    with shell.stderr:
        assert shell.stderr.read() == b""


def test_the_shell_keeps_its_own_database_whatever_dotenv_says(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("DATABASE_URL=postgres://prod@127.0.0.1:9/production\n")
    done = groupcast(tmp_path, "shell", "--script", "-", stdin="/community list\n")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "groupcast-shell.sqlite3").exists()
    elsewhere = f"sqlite://{tmp_path}/other.sqlite3"
    done = groupcast(tmp_path, "shell", "--database", elsewhere, "--script", "-", stdin=":users\n")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "other.sqlite3").exists()


def test_subcommand_help_names_the_variables_that_matter(tmp_path: Path) -> None:
    slack = groupcast(tmp_path, "slack", "--help").stdout
    assert all(
        v in slack for v in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "PORT", "DATABASE_URL")
    )
    discord = groupcast(tmp_path, "discord", "--help").stdout
    assert all(v in discord for v in ("DISCORD_TOKEN", "DISCORD_DEV_GUILD", "HEALTH_PORT"))
    assert "--database" in groupcast(tmp_path, "shell", "--help").stdout


def procfile() -> dict[str, list[str]]:
    """The Procfile's processes: name -> the `groupcast` arguments it runs."""
    out = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.strip():
            name, command = line.split(":", 1)
            program, *args = command.split()
            assert program == "groupcast", line
            out[name.strip()] = args
    return out


def test_the_procfile_serves_slack_http_on_web_and_runs_discord_and_release() -> None:
    processes = procfile()
    assert processes["release"] == ["migrate"]
    assert processes["web"][0] == "slack"  # only `web` receives HTTP on Heroku
    assert processes["discord"][0] == "discord"
    assert "slack" not in processes


@pytest.mark.parametrize(
    ("process", "says"),
    [
        ("web", "SLACK_BOT_TOKEN is not set: the slack process has nothing to do"),
        ("discord", "DISCORD_TOKEN is not set: the discord process has nothing to do"),
    ],
)
def test_a_procfile_process_whose_token_is_unset_exits_0_in_one_line(
    tmp_path: Path, process: str, says: str
) -> None:
    done = groupcast(tmp_path, *procfile()[process])
    assert done.returncode == 0
    assert one_line(done) == f"groupcast: {says}"


def test_a_procfile_process_still_refuses_a_malformed_setting(tmp_path: Path) -> None:
    done = groupcast(tmp_path, *procfile()["web"], LOG_FORMAT="xml")
    assert done.returncode == 2
    assert "LOG_FORMAT:" in one_line(done)


def test_a_configured_procfile_process_starts_and_checks_its_token(tmp_path: Path) -> None:
    done = groupcast(
        tmp_path,
        *procfile()["discord"],
        DISCORD_TOKEN="x",
        DISCORD_API_URL="http://127.0.0.1:9",
    )
    assert done.returncode == 2
    assert "cannot reach Discord at http://127.0.0.1:9" in one_line(done)


def test_an_oauth_setup_counts_as_configured_for_the_web_process(tmp_path: Path) -> None:
    """Multi-workspace Slack has no SLACK_BOT_TOKEN: the web process must not skip itself."""
    done = groupcast(
        tmp_path,
        *procfile()["web"],
        SLACK_CLIENT_ID="1.2",
        SLACK_CLIENT_SECRET="s",
        SLACK_SIGNING_SECRET="s",
        DATABASE_URL=f"sqlite://{tmp_path}/db.sqlite3",
    )
    assert done.returncode == 2  # past the Procfile check, stopped on the missing key
    assert "SLACK_TOKEN_KEY" in one_line(done)

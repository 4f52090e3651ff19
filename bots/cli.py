"""The `groupcast` command: shell, slack, discord, migrate, doctor."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from importlib.metadata import PackageNotFoundError, version

from core.config import ConfigError, Settings, database_url_problem, load_settings

SHELL_DATABASE = "sqlite://groupcast-shell.sqlite3"
SLACK, DISCORD = "SLACK_BOT_TOKEN", "DISCORD_TOKEN"

COMMON_VARS = """\
environment (or .env):
  DATABASE_URL          sqlite://FILE or postgres://USER@HOST/DB (default sqlite://groupcast.sqlite3)
  REDIS_URL             shared presence for several processes (optional)
  LOG_FORMAT            text (default) or json;  LOG_LEVEL  INFO (default), DEBUG, WARNING"""

EPILOG = {
    "shell": """\
The shell never reads DATABASE_URL: it keeps its own file (groupcast-shell.sqlite3)
unless --database names another, so it cannot seed demo people into a real database.
environment: RANDOM_SEED (who is picked first), ASK_TIMEOUT_SECONDS, MAX_ATTEMPTS""",
    "slack": f"""{COMMON_VARS}
  SLACK_BOT_TOKEN       xoxb-… (one workspace; required unless OAuth below)
  SLACK_SIGNING_SECRET  from Basic Information (required)
  SLACK_CLIENT_ID, SLACK_CLIENT_SECRET, SLACK_TOKEN_KEY
                        OAuth installs for many workspaces (instead of SLACK_BOT_TOKEN)
  SLACK_APP_TOKEN       xapp-…: Socket Mode instead of HTTP (optional)
  PORT                  HTTP mode: /slack/events, /healthz, /readyz, /metrics (default 3000)
  HEALTH_PORT           Socket Mode: /healthz, /readyz, /metrics (default 8080)""",
    "discord": f"""{COMMON_VARS}
  DISCORD_TOKEN         the bot token (required)
  DISCORD_DEV_GUILD     a guild id: commands sync there at once instead of globally
  HEALTH_PORT           /healthz, /readyz, /metrics (default 8080)""",
    "migrate": COMMON_VARS,
    "doctor": COMMON_VARS,
}


def package_version() -> str:
    try:
        return version("groupcast")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="groupcast", description="Reach whoever is available in a community."
    )
    top.add_argument("--version", action="version", version=f"groupcast {package_version()}")
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, text: str) -> argparse.ArgumentParser:
        return sub.add_parser(
            name,
            help=text,
            description=text,
            epilog=EPILOG[name],
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    shell = add("shell", "a simulated workspace in the terminal (offline)")
    shell.add_argument(
        "--script",
        metavar="FILE",
        help="run lines from FILE (- for standard input) without a prompt; exit 1 if any failed",
    )
    shell.add_argument(
        "--json", action="store_true", help="print every outbound message as one JSON object a line"
    )
    shell.add_argument(
        "--now",
        metavar="ISO",
        help="start the simulated clock at this time (e.g. 2026-01-05T09:00:00+00:00)",
    )
    shell.add_argument(
        "--database",
        metavar="URL",
        default=SHELL_DATABASE,
        help=f"where the simulated workspace lives (default {SHELL_DATABASE})",
    )
    for name, text, token in (
        ("slack", "run the Slack bot (HTTP mode, or Socket Mode with SLACK_APP_TOKEN)", SLACK),
        ("discord", "run the Discord bot", DISCORD),
    ):
        add(name, text).add_argument(
            "--if-configured",
            action="store_true",
            help=f"exit 0 with one line when {token} is unset (the Procfile's processes)",
        )
    add("migrate", "apply database migrations")
    add("doctor", "check the request lifecycle's invariants in the database (exit 1 if broken)")
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = load_settings()
        if args.command == "shell":
            if problem := database_url_problem(args.database):
                raise ConfigError(f"--database: {problem}")
            settings = settings.model_copy(
                update={"database_url": args.database, "redis_url": None}
            )
        if getattr(args, "if_configured", False) and (idle := unconfigured(args.command, settings)):
            print(f"groupcast: {idle}", file=sys.stderr)
            return 0
        from core.logs import setup_logging

        setup_logging(settings, quiet=args.command == "shell")
        return asyncio.run(_run(args, settings))
    except ConfigError as exc:
        print(f"groupcast: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("groupcast: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return quiet_broken_pipe()


def quiet_broken_pipe() -> int:
    """The reader went away (`| head`): stop quietly, as `cat` killed by SIGPIPE would.

    128 + SIGPIPE (141) is what a shell reports for such a writer, so `set -o pipefail` sees
    truncated output the same way for us as for any other Unix tool. Standard output now points
    at /dev/null so the interpreter's final flush cannot raise again.
    """
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 128 + signal.SIGPIPE


def unconfigured(command: str, settings: Settings) -> str | None:
    """Why a Procfile process has nothing to do (its bot's token is unset), else None."""
    if command == "slack" and settings.slack_client_id:
        return None  # OAuth distribution: each workspace's token comes from its install
    name, token = (
        (SLACK, settings.slack_bot_token)
        if command == "slack"
        else (DISCORD, settings.discord_token)
    )
    if token is None or not token.get_secret_value():
        return f"{name} is not set: the {command} process has nothing to do"
    return None


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "shell":
        from bots.shell.main import open_script, run_shell, start_time

        start = start_time(args.now)
        script = open_script(args.script) if args.script else None
        return await run_shell(settings, script=script, as_json=args.json, start=start)
    if args.command == "migrate":
        from core.store.db import migrate

        await migrate(settings.database_url)
        print("database is up to date")
        return 0
    if args.command == "doctor":
        return await _doctor(settings.database_url)
    if args.command == "slack":
        from bots.slack.main import run_slack

        return await run_slack(settings)
    from bots.discord.main import run_discord

    return await run_discord(settings)


async def _doctor(url: str) -> int:
    """Print each violation in one line; exit 1 if there is any."""
    from tortoise.exceptions import OperationalError

    from core.doctor import check
    from core.store.db import NO_SCHEMA, close_db, has_no_schema, open_db, reachable
    from core.store.models import Request

    if has_no_schema(url):  # opening it would create an empty file
        raise ConfigError(NO_SCHEMA)
    try:
        with reachable():
            await open_db(url, migrate_first=False)
            try:
                await Request.exists()
            except OperationalError:
                raise ConfigError(NO_SCHEMA) from None
            problems = await check()
    finally:
        await close_db()
    for line in problems:
        print(line)
    if problems:
        return 1
    print("ok: every request has a way forward and every ending was told once")
    return 0


if __name__ == "__main__":
    sys.exit(main())

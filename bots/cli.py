"""The `groupcast` command: shell, slack, discord, migrate."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from core.config import ConfigError, load_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="groupcast", description="Reach whoever is available in a community."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    shell = sub.add_parser("shell", help="a simulated workspace in the terminal (offline)")
    shell.add_argument(
        "--script",
        metavar="FILE",
        help="run lines from FILE (- for standard input) without a prompt",
    )
    shell.add_argument(
        "--json", action="store_true", help="print every outbound message as one JSON object a line"
    )
    shell.add_argument(
        "--now",
        metavar="ISO",
        help="start the simulated clock at this time (e.g. 2026-01-05T09:00:00+00:00)",
    )
    sub.add_parser(
        "slack", help="run the Slack bot (HTTP mode, or Socket Mode with SLACK_APP_TOKEN)"
    )
    sub.add_parser("discord", help="run the Discord bot")
    sub.add_parser("migrate", help="apply database migrations")
    sub.add_parser(
        "doctor", help="check the request lifecycle's invariants in the database (exit 1 if broken)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.command != "shell" else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        settings = load_settings()
        return asyncio.run(_run(args, settings))
    except ConfigError as exc:
        print(f"groupcast: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


async def _run(args: argparse.Namespace, settings: object) -> int:
    from core.config import Settings

    assert isinstance(settings, Settings)
    if args.command == "shell":
        from bots.shell.main import open_script, run_shell

        script = open_script(args.script) if args.script else None
        return await run_shell(settings, script=script, as_json=args.json, now=args.now)
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
    from core.doctor import check
    from core.store.db import close_db, open_db, reachable

    with reachable():
        await open_db(url, migrate_first=False)
    try:
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

"""The interactive prompt (prompt_toolkit): history in a file, Tab completion, Ctrl-C and Ctrl-D."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from prompt_toolkit import PromptSession
from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document
from prompt_toolkit.history import FileHistory, History, InMemoryHistory

from bots.shell.session import META, STATES, ShellSession
from core.commands import COMMANDS, COMMUNITY_ACTIONS, FLAGS

HANDLE_FIRST = {"/ask-available", "/community"}  # the word after these (or the action) is a handle


class ShellCompleter(Completer):
    """Commands, /community actions, flags, @handles and people, from the live session."""

    def __init__(self, session: ShellSession) -> None:
        self.session = session

    def candidates(self, words: list[str]) -> Iterable[str]:
        """What may come next after the complete `words` already typed."""
        s = self.session
        if not words:
            return [*(f"/{c}" for c in COMMANDS), *META]
        first, n = words[0].lower(), len(words)
        if first == "/community":
            if n == 1:
                return COMMUNITY_ACTIONS
            if n == 2 and words[1] != "list":
                return s.handles
            if words[1] in ("add", "remove") or (words[1] == "set" and n == 4):
                return [f"@{p}" for p in s.people]
            if words[1] == "set" and n == 3:
                return ["strategy", "mention", "capacity", "owner"]
            if words[1] == "subscribe" and n == 3:
                return ["--once"]
            return []
        if first == "/ask-available":
            if n == 1:
                return [*s.handles, "cancel", "why"]
            return FLAGS if n == 2 and words[1] not in ("cancel", "why") else []
        if first in (":as", ":presence") and n == 1:
            return s.people
        if first == ":presence" and n == 2:
            return list(STATES)
        if first == ":advance" and n == 1:
            return ["10m", "1h", "1d"]
        if not first.startswith((":", "/")):  # a channel message: @handles and people
            return [f"@{h}" for h in s.handles] + [f"@{p}" for p in s.people]
        return []

    def get_completions(
        self, document: Document, complete_event: CompleteEvent
    ) -> Iterable[Completion]:
        before = document.text_before_cursor
        words = before.split()
        partial = "" if not words or before.endswith(" ") else words.pop()
        for option in self.candidates(words):
            if option.lower().startswith(partial.lower()):
                yield Completion(option, start_position=-len(partial))


def kept_lines(path: Path | None) -> History:
    """A history file, or (where it cannot be written) history for this session only."""
    if path is None:
        return InMemoryHistory()
    try:
        path.touch()
    except OSError:
        return InMemoryHistory()
    return FileHistory(str(path))


async def interact(session: ShellSession, history: Path | None) -> None:
    """Prompt until :quit or Ctrl-D; Ctrl-C clears the line being typed."""
    prompt: PromptSession[str] = PromptSession(
        history=kept_lines(history), completer=ShellCompleter(session), complete_while_typing=False
    )
    while True:
        try:
            raw = await prompt.prompt_async(f"{session.user}> ")
        except KeyboardInterrupt:
            continue
        except EOFError:
            return
        if not await session.line(raw):
            return

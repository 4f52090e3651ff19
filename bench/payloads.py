"""Deterministic, realistic raw Discord gateway payloads for benchmarks.

Shapes follow Discord's developer documentation (Gateway Events: Presence Update, Activity
Object, Client Status Object; Resources: User Object, Guild Member Object): snowflakes are
strings, timestamps in activities are Unix milliseconds, member timestamps are ISO 8601,
and a presence's ``user`` is partial (only ``id`` is guaranteed, as the docs warn).
Every generator takes a seed so two runs (ours and a baseline) see byte-identical input.
"""

from __future__ import annotations

import random
import string
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = [
    "DISCORD_EPOCH_MS",
    "MAX_MEMBERS",
    "Payload",
    "guild_create",
    "guild_members",
    "guild_roles",
    "iter_guild_members",
    "presence_updates",
    "snowflake",
]

Payload = dict[str, Any]

DISCORD_EPOCH_MS = 1_420_070_400_000
"""First millisecond of 2015, the zero of Discord snowflakes' timestamp bits."""

MAX_MEMBERS = 1 << 22
"""Member ids embed the member's index in their low 22 bits, which keeps them unique."""

# A fixed "now" keeps every generated timestamp reproducible (mid-2024, in ms).
_NOW_MS = 1_718_000_000_000
_ACCOUNTS_FROM_MS = 1_451_606_400_000  # 2016-01-01: realistic range for account creation
_JOINS_FROM = datetime(2019, 1, 1, tzinfo=UTC)
_JOIN_SPAN_S = 5 * 365 * 24 * 3600

_ADJECTIVES = (
    "quiet", "brave", "sleepy", "lucky", "cosmic", "rusty", "swift", "mellow", "salty",
    "fuzzy", "gentle", "electric", "golden", "hidden", "lazy", "noisy", "polar", "shy",
)  # fmt: skip
_NOUNS = (
    "otter", "falcon", "pixel", "badger", "comet", "maple", "walrus", "ember", "lynx",
    "pebble", "raven", "tofu", "yeti", "zephyr", "koala", "nebula", "quokka", "sprout",
)  # fmt: skip
_GAMES = (
    ("Minecraft", None), ("Counter-Strike 2", "In Match"), ("League of Legends", "In Game"),
    ("Valorant", "Competitive"), ("Fortnite", "Battle Royale"), ("Stardew Valley", None),
    ("Rocket League", "Ranked Doubles"), ("Baldur's Gate 3", "Act II"), ("Factorio", None),
    ("Overwatch 2", "Quick Play"), ("Terraria", None), ("Elden Ring", "Exploring"),
)  # fmt: skip
_CUSTOM_TEXTS = (
    "on call until 6pm", "heads down, ping if urgent", "lunch 🍜", "in meetings all day",
    "vacation mode", "back in 15", "reviewing PRs", "exam week, slow replies", None,
)  # fmt: skip
_UNICODE_EMOJIS = ("🔥", "☕", "🎧", "🌴", "📚", "💤", "🚀", "🍕", "🛠️", "🎮")
_CUSTOM_EMOJI_NAMES = ("pepe_think", "catjam", "blobwave", "kekw", "partyparrot")
_TRACK_WORDS = (
    "Midnight", "Echoes", "Paper", "Satellite", "Honey", "Static", "River", "Neon",
    "Lights", "Garden", "Fever", "Signals", "Northern", "Velvet", "Summer", "Ghosts",
)  # fmt: skip
_ARTISTS = (
    "The Lanterns", "Mira Vale", "Octave Drift", "Kojo & the Tides", "Ana Sol",
    "Glass Harbor", "DJ Petrichor", "Nightjar", "Lumen Park", "Felix Arden",
)  # fmt: skip
_STATUSES = ("online", "idle", "dnd", "offline")
_STATUS_WEIGHTS = (50, 20, 10, 20)
_BASE62 = string.digits + string.ascii_letters


def snowflake(timestamp_ms: int, low_bits: int) -> str:
    """Build a snowflake string so ids carry a plausible creation time, as real ones do."""
    return str(((timestamp_ms - DISCORD_EPOCH_MS) << 22) | (low_bits & 0x3FFFFF))


def _hex(rng: random.Random, chars: int) -> str:
    """Return ``chars`` random hex digits, the format of Discord image hashes and ids."""
    return format(rng.getrandbits(chars * 4), f"0{chars}x")


def _base62(rng: random.Random, chars: int) -> str:
    """Return a Spotify-style base62 id (track ids are 22 characters)."""
    return "".join(rng.choices(_BASE62, k=chars))


def guild_roles(guild_id: int, seed: int, count: int = 24) -> list[Payload]:
    """Role objects for a guild, starting with @everyone whose id is the guild id by design."""
    rng = random.Random(f"roles:{guild_id}:{seed}")
    roles: list[Payload] = []
    for position in range(count):
        role_id = (
            str(guild_id) if position == 0 else snowflake(_NOW_MS - rng.randrange(10**10), position)
        )
        roles.append(
            {
                "id": role_id,
                "name": "@everyone" if position == 0 else f"{rng.choice(_NOUNS)}-{position}",
                "color": 0 if position == 0 else rng.getrandbits(24),
                "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
                "hoist": position % 5 == 1,
                "icon": None,
                "unicode_emoji": None,
                "position": position,
                "permissions": "1071698660929" if position == 0 else str(rng.getrandbits(40)),
                "managed": False,
                "mentionable": position % 3 == 0,
                "flags": 0,
            }
        )
    return roles


def iter_guild_members(n: int, guild_id: int, seed: int) -> Iterator[Payload]:
    """Yield GUILD_CREATE / GUILD_MEMBERS_CHUNK member objects lazily, so 1M fit in memory."""
    if not 0 <= n <= MAX_MEMBERS:
        raise ValueError(f"n must be in [0, {MAX_MEMBERS}] to keep member ids unique")
    rng = random.Random(f"members:{guild_id}:{seed}")
    role_ids = [r["id"] for r in guild_roles(guild_id, seed)[1:]]  # @everyone is implicit
    role_counts = (0, 0, 1, 1, 2, 3, 5, 1)
    public_flags = (0, 0, 0, 0, 64, 128, 256, 4194304)  # hypesquad houses, active developer
    member_flags = (0, 0, 0, 0, 0, 2, 2, 1)  # DID_REJOIN=1, COMPLETED_ONBOARDING=2
    span_ms = _NOW_MS - _ACCOUNTS_FROM_MS
    for index in range(n):
        # One wide draw per member, sliced into fields: ~3x faster than a draw per field,
        # which matters when generating a million members inside a timed, traced budget.
        bits = rng.getrandbits(128)
        created_ms = _ACCOUNTS_FROM_MS + (bits & 0xFFFFFFFFFFF) % span_ms  # 44 bits
        adjective = _ADJECTIVES[(bits >> 44) % len(_ADJECTIVES)]
        noun = _NOUNS[(bits >> 49) % len(_NOUNS)]
        username = f"{adjective}_{noun}{(bits >> 54) % 10_000}"
        rolls = bits >> 68  # 60 bits of small percentages and picks
        avatar_roll = rolls % 100
        avatar = None
        if avatar_roll >= 20:
            avatar = ("a_" if avatar_roll >= 95 else "") + format(rng.getrandbits(128), "032x")
        user: Payload = {
            "id": snowflake(created_ms, index),
            "username": username,
            "global_name": None if (rolls >> 7) % 10 < 3 else f"{adjective.title()} {noun.title()}",
            "avatar": avatar,
            "discriminator": "0",
            "public_flags": public_flags[(rolls >> 11) & 7],
            "avatar_decoration_data": None,
        }
        if (rolls >> 14) % 100 == 0:
            user["bot"] = True
        joined = _JOINS_FROM + timedelta(
            seconds=(rolls >> 21) % _JOIN_SPAN_S, microseconds=(bits >> 90) % 1_000_000
        )
        roles_at = (rolls >> 28) % len(role_ids)
        yield {
            "user": user,
            "nick": f"{noun.title()} {adjective}" if (rolls >> 35) % 100 < 15 else None,
            "avatar": None,
            "banner": None,
            "roles": role_ids[roles_at : roles_at + role_counts[(rolls >> 42) & 7]],
            "joined_at": joined.isoformat(),
            "premium_since": (
                (joined + timedelta(days=30)).isoformat() if (rolls >> 45) % 50 == 0 else None
            ),
            "deaf": False,
            "mute": False,
            "flags": member_flags[(bits >> 61) & 7],
            "pending": False,
            "communication_disabled_until": None,
        }


def guild_members(n: int, guild_id: int, seed: int) -> list[Payload]:
    """Materialise ``n`` member objects, for callers that want the whole GUILD_CREATE list."""
    return list(iter_guild_members(n, guild_id, seed))


def guild_create(guild_id: int, members: Sequence[Payload], seed: int) -> Payload:
    """A GUILD_CREATE ``d`` carrying ``members``, so a library can build its Guild as live."""
    return {
        "id": str(guild_id),
        "name": "Benchmark Guild",
        "icon": None,
        "owner_id": members[0]["user"]["id"] if members else str(guild_id),
        "afk_timeout": 300,
        "verification_level": 1,
        "default_message_notifications": 1,
        "explicit_content_filter": 2,
        "roles": guild_roles(guild_id, seed),
        "emojis": [],
        "stickers": [],
        "features": ["COMMUNITY"],
        "mfa_level": 0,
        "system_channel_flags": 0,
        "premium_tier": 0,
        "preferred_locale": "en-US",
        "nsfw_level": 0,
        "premium_progress_bar_enabled": False,
        "joined_at": "2024-01-01T00:00:00.000000+00:00",
        "large": len(members) >= 250,
        "unavailable": False,
        "member_count": len(members),
        "voice_states": [],
        "members": list(members),
        "channels": [],
        "threads": [],
        "presences": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
    }


def _game(rng: random.Random, started_ms: int) -> Payload:
    """A Playing (type 0) activity: a detected game or a rich-presence one with an app id."""
    game_index = rng.randrange(len(_GAMES))
    name, details = _GAMES[game_index]
    activity: Payload = {
        "id": _hex(rng, 16),
        "name": name,
        "type": 0,
        "created_at": started_ms + rng.randrange(1_000),
        "timestamps": {"start": started_ms},
    }
    if details is not None:  # the game's own application: a stable id per game, as on Discord
        application_id = snowflake(_NOW_MS - 10**11, game_index)
        activity |= {
            "application_id": application_id,
            "details": details,
            "state": rng.choice(("In a Group", "Solo", "Lobby")),
            "party": {"id": _hex(rng, 24), "size": [rng.randint(1, 4), 5]},
            "assets": {"large_image": snowflake(_NOW_MS - 10**11, 64 + game_index)},
            "flags": 0,
        }
        activity["assets"]["large_text"] = name
    return activity


def _custom(rng: random.Random, created_ms: int) -> Payload:
    """A Custom Status (type 4): fixed name 'Custom Status', text in ``state``, maybe emoji."""
    activity: Payload = {
        "id": "custom",
        "name": "Custom Status",
        "type": 4,
        "created_at": created_ms,
    }
    text = rng.choice(_CUSTOM_TEXTS)
    if text is not None:
        activity["state"] = text
    roll = rng.random()
    if roll < 0.55 or text is None:
        activity["emoji"] = {"name": rng.choice(_UNICODE_EMOJIS)}
    elif roll < 0.75:
        activity["emoji"] = {
            "id": snowflake(_NOW_MS - 10**10, rng.randrange(4096)),
            "name": rng.choice(_CUSTOM_EMOJI_NAMES),
            "animated": rng.random() < 0.3,
        }
    return activity


def _spotify(rng: random.Random, user_id: str, now_ms: int) -> Payload:
    """A Listening (type 2) Spotify activity with the sync/session ids and SYNC|PLAY flags."""
    length_ms = rng.randint(120_000, 360_000)
    start_ms = now_ms - rng.randrange(length_ms)
    title = " ".join(rng.sample(_TRACK_WORDS, k=rng.randint(1, 3)))
    artists = "; ".join(rng.sample(_ARTISTS, k=rng.choice((1, 1, 1, 2))))
    return {
        "id": "spotify:1",
        "name": "Spotify",
        "type": 2,
        "flags": 48,  # SYNC (1 << 4) | PLAY (1 << 5)
        "created_at": start_ms,
        "timestamps": {"start": start_ms, "end": start_ms + length_ms},
        "sync_id": _base62(rng, 22),
        "session_id": _hex(rng, 32),
        "party": {"id": f"spotify:{user_id}"},
        "details": title,
        "state": artists,
        "assets": {
            "large_image": "spotify:ab67616d0000b273" + _hex(rng, 40),
            "large_text": f"{title} (Deluxe)" if rng.random() < 0.2 else title,
        },
    }


def _activities(rng: random.Random, user_id: str, now_ms: int) -> list[Payload]:
    """Pick a realistic mix: nothing, a game, a custom status, Spotify, or a custom + other."""
    roll = rng.random()
    if roll < 0.35:
        return []
    started = now_ms - rng.randrange(3 * 3600 * 1000)
    if roll < 0.55:
        return [_game(rng, started)]
    if roll < 0.75:
        return [_custom(rng, started)]
    if roll < 0.85:
        return [_spotify(rng, user_id, now_ms)]
    if roll < 0.93:
        return [_custom(rng, started), _game(rng, started)]
    return [_custom(rng, started), _spotify(rng, user_id, now_ms)]


def _client_status(rng: random.Random, status: str) -> dict[str, str]:
    """Per-platform status: only active platforms appear; offline users have none."""
    if status == "offline":
        return {}
    platforms = rng.choice((("desktop",), ("mobile",), ("desktop", "mobile"), ("web",)))
    result = dict.fromkeys(platforms, status)
    if len(platforms) == 2 and rng.random() < 0.5:
        result["mobile"] = "idle"  # the phone in a pocket goes idle while the desktop is active
    return result


def presence_updates(n: int, guild_id: int, user_ids: Sequence[int], seed: int) -> list[Payload]:
    """``n`` PRESENCE_UPDATE ``d`` payloads for members drawn from ``user_ids``, reproducibly."""
    if not user_ids:
        raise ValueError("user_ids must not be empty")
    rng = random.Random(f"presences:{guild_id}:{seed}")
    guild = str(guild_id)
    updates: list[Payload] = []
    for index in range(n):
        user_id = str(rng.choice(user_ids))
        status = rng.choices(_STATUSES, _STATUS_WEIGHTS)[0]
        now_ms = _NOW_MS + index * 50
        updates.append(
            {
                "user": {"id": user_id},
                "guild_id": guild,
                "status": status,
                "activities": [] if status == "offline" else _activities(rng, user_id, now_ms),
                "client_status": _client_status(rng, status),
            }
        )
    return updates

"""Builders for the HTTP requests Slack sends to an app's Request URL, signed like Slack.

Each builder names the Slack doc page whose example payload it follows. Bodies are bytes
exactly as they go on the wire; pair them with ``signed_headers`` (or ``sign``) to get the
headers Slack would attach.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import secrets
import time
from typing import Any
from urllib.parse import urlencode

JSONDict = dict[str, Any]

CONTENT_TYPE_FORM = "application/x-www-form-urlencoded"
CONTENT_TYPE_JSON = "application/json"
DEFAULT_TEAM_ID = "T0STANDIN"
DEFAULT_TEAM_DOMAIN = "standin"
DEFAULT_APP_ID = "A0STANDIN"
DEFAULT_BOT_USER_ID = "U0BOTUSER"
# Slack still sends the deprecated verification token; apps should ignore it.
VERIFICATION_TOKEN = "standin-verification-token"

_event_seq = itertools.count(1)
_ts_seq = itertools.count(1)


def sign(body: bytes, secret: str, timestamp: int) -> dict[str, str]:
    """api.slack.com/authentication/verifying-requests-from-slack: v0 HMAC-SHA256 headers."""
    basestring = b"v0:" + str(timestamp).encode() + b":" + body
    digest = hmac.new(secret.encode(), basestring, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": f"v0={digest}"}


def signed_headers(
    body: bytes,
    secret: str,
    *,
    timestamp: int | None = None,
    content_type: str = CONTENT_TYPE_FORM,
) -> dict[str, str]:
    """Signature headers plus Content-Type, i.e. everything Slack's POST carries that matters."""
    ts = int(time.time()) if timestamp is None else timestamp
    return {"Content-Type": content_type, **sign(body, secret, ts)}


def with_retry(headers: dict[str, str], num: int, reason: str = "http_timeout") -> dict[str, str]:
    """api.slack.com/apis/events-api (graceful retries): X-Slack-Retry-Num/-Reason headers."""
    return {**headers, "X-Slack-Retry-Num": str(num), "X-Slack-Retry-Reason": reason}


def _fake_ts() -> str:
    """A unique Slack-style ``ts`` string for builders that need one."""
    now_us = int(time.time() * 1_000_000) + next(_ts_seq)
    seconds, micros = divmod(now_us, 1_000_000)
    return f"{seconds}.{micros:06d}"


def _trigger_id() -> str:
    """A trigger_id shaped like Slack's (``digits.digits.hex``)."""
    return f"{secrets.randbelow(10**13)}.{secrets.randbelow(10**12)}.{secrets.token_hex(16)}"


def _response_url(kind: str, team_id: str) -> str:
    """A hooks.slack.com response URL of the documented shape (never actually called)."""
    return (
        f"https://hooks.slack.com/{kind}/{team_id}/{secrets.randbelow(10**13)}/"
        f"{secrets.token_urlsafe(18)}"
    )


def slash_command(
    command: str = "/ask-available",
    text: str = "",
    *,
    team_id: str = DEFAULT_TEAM_ID,
    team_domain: str = DEFAULT_TEAM_DOMAIN,
    user_id: str = "U0000ALICE",
    user_name: str = "alice",
    channel_id: str = "C0000GENRL",
    channel_name: str = "general",
    trigger_id: str | None = None,
    response_url: str | None = None,
    api_app_id: str = DEFAULT_APP_ID,
    enterprise_id: str | None = None,
    enterprise_name: str | None = None,
    token: str = VERIFICATION_TOKEN,
) -> bytes:
    """api.slack.com/interactivity/slash-commands (app_command_handling): the form body."""
    fields: list[tuple[str, str]] = [
        ("token", token),
        ("team_id", team_id),
        ("team_domain", team_domain),
    ]
    if enterprise_id is not None:
        fields += [("enterprise_id", enterprise_id), ("enterprise_name", enterprise_name or "")]
    fields += [
        ("channel_id", channel_id),
        ("channel_name", channel_name),
        ("user_id", user_id),
        ("user_name", user_name),
        ("command", command),
        ("text", text),
        ("api_app_id", api_app_id),
        ("is_enterprise_install", "false"),
        ("response_url", response_url or _response_url("commands", team_id)),
        ("trigger_id", trigger_id or _trigger_id()),
    ]
    return urlencode(fields).encode()


def event_callback(
    event: JSONDict,
    team_id: str = DEFAULT_TEAM_ID,
    event_id: str | None = None,
    event_time: int | None = None,
    *,
    api_app_id: str = DEFAULT_APP_ID,
    bot_user_id: str = DEFAULT_BOT_USER_ID,
    is_ext_shared_channel: bool = False,
    token: str = VERIFICATION_TOKEN,
) -> bytes:
    """docs.slack.dev/reference/objects/event-object: the Events API outer envelope (JSON)."""
    envelope: JSONDict = {
        "token": token,
        "team_id": team_id,
        "context_team_id": team_id,
        "context_enterprise_id": None,
        "api_app_id": api_app_id,
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{next(_event_seq):04d}{secrets.token_hex(3).upper()}",
        "event_time": int(time.time()) if event_time is None else event_time,
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": team_id,
                "user_id": bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": is_ext_shared_channel,
        "event_context": f"4-{secrets.token_urlsafe(24)}",
    }
    return json.dumps(envelope).encode()


def url_verification(challenge: str, token: str = VERIFICATION_TOKEN) -> bytes:
    """api.slack.com/events/url_verification: the Request URL handshake (no envelope)."""
    return json.dumps({"token": token, "challenge": challenge, "type": "url_verification"}).encode()


def message_event(
    channel: str,
    user: str,
    text: str,
    *,
    ts: str | None = None,
    channel_type: str = "channel",
    team: str = DEFAULT_TEAM_ID,
    thread_ts: str | None = None,
    blocks: list[JSONDict] | None = None,
) -> JSONDict:
    """docs.slack.dev/reference/events/message.channels: a user's plain channel message."""
    message_ts = ts or _fake_ts()
    event: JSONDict = {
        "type": "message",
        "channel": channel,
        "user": user,
        "text": text,
        "ts": message_ts,
        "event_ts": message_ts,
        "channel_type": channel_type,
        "team": team,
        "client_msg_id": secrets.token_hex(16),
    }
    if thread_ts is not None:
        event["thread_ts"] = thread_ts
    if blocks is not None:
        event["blocks"] = blocks
    return event


def app_home_opened(
    user: str,
    channel: str,
    *,
    tab: str = "home",
    view: JSONDict | None = None,
    event_ts: str | None = None,
) -> JSONDict:
    """docs.slack.dev/reference/events/app_home_opened: ``view`` only once one was published."""
    event: JSONDict = {
        "type": "app_home_opened",
        "user": user,
        "channel": channel,
        "tab": tab,
        "event_ts": event_ts or _fake_ts(),
    }
    if view is not None:
        event["view"] = view
    return event


def user_object(
    user_id: str,
    *,
    team_id: str = DEFAULT_TEAM_ID,
    name: str = "alice",
    real_name: str = "Alice Example",
    display_name: str = "alice",
    tz: str = "Europe/Berlin",
    tz_label: str = "Central European Summer Time",
    tz_offset: int = 7200,
    status_text: str = "",
    status_emoji: str = "",
    status_expiration: int = 0,
    huddle_state: str = "default_unset",
    huddle_state_expiration_ts: int = 0,
    is_bot: bool = False,
    deleted: bool = False,
) -> JSONDict:
    """docs.slack.dev/reference/events/user_change: the full user object events carry."""
    first, _, last = real_name.partition(" ")
    return {
        "id": user_id,
        "team_id": team_id,
        "name": name,
        "deleted": deleted,
        "color": "4bbe2e",
        "real_name": real_name,
        "tz": tz,
        "tz_label": tz_label,
        "tz_offset": tz_offset,
        "profile": {
            "title": "",
            "phone": "",
            "skype": "",
            "real_name": real_name,
            "real_name_normalized": real_name,
            "display_name": display_name,
            "display_name_normalized": display_name,
            "fields": {},
            "status_text": status_text,
            "status_emoji": status_emoji,
            "status_emoji_display_info": [],
            "status_expiration": status_expiration,
            "avatar_hash": "g12345678910",
            "huddle_state": huddle_state,
            "huddle_state_expiration_ts": huddle_state_expiration_ts,
            "first_name": first,
            "last_name": last,
            "image_24": "https://example.invalid/avatar_24.png",
            "image_32": "https://example.invalid/avatar_32.png",
            "image_48": "https://example.invalid/avatar_48.png",
            "image_72": "https://example.invalid/avatar_72.png",
            "image_192": "https://example.invalid/avatar_192.png",
            "image_512": "https://example.invalid/avatar_512.png",
            "team": team_id,
        },
        "is_admin": False,
        "is_owner": False,
        "is_primary_owner": False,
        "is_restricted": False,
        "is_ultra_restricted": False,
        "is_bot": is_bot,
        "is_app_user": False,
        "updated": int(time.time()),
        "is_email_confirmed": True,
        "who_can_share_contact_card": "EVERYONE",
        "locale": "en-US",
    }


def _user_event(kind: str, user_id: str, user_fields: dict[str, Any]) -> JSONDict:
    """Shared shape of user_change / user_status_changed / user_huddle_changed."""
    now = int(time.time())
    return {
        "type": kind,
        "user": user_object(user_id, **user_fields),
        "cache_ts": now,
        "event_ts": _fake_ts(),
    }


def user_change(user_id: str, **user_fields: Any) -> JSONDict:
    """docs.slack.dev/reference/events/user_change: any profile or account change."""
    return _user_event("user_change", user_id, user_fields)


def user_status_changed(
    user_id: str,
    status_text: str,
    status_emoji: str = "",
    status_expiration: int = 0,
    **user_fields: Any,
) -> JSONDict:
    """docs.slack.dev/reference/events/user_status_changed: same body as user_change."""
    fields = {
        "status_text": status_text,
        "status_emoji": status_emoji,
        "status_expiration": status_expiration,
        **user_fields,
    }
    return _user_event("user_status_changed", user_id, fields)


def user_huddle_changed(
    user_id: str,
    huddle_state: str = "in_a_huddle",
    huddle_state_expiration_ts: int = 0,
    *,
    call_id: str = "R0000HUDDLE",
    **user_fields: Any,
) -> JSONDict:
    """docs.slack.dev/reference/events/user_huddle_changed: profile gains huddle_state."""
    fields = {
        "huddle_state": huddle_state,
        "huddle_state_expiration_ts": huddle_state_expiration_ts,
        **user_fields,
    }
    event = _user_event("user_huddle_changed", user_id, fields)
    if huddle_state == "in_a_huddle":
        event["user"]["profile"]["huddle_state_call_id"] = call_id
    return event


def dnd_updated_user(
    user: str,
    *,
    dnd_enabled: bool = True,
    next_dnd_start_ts: int = 1,
    next_dnd_end_ts: int = 1,
    event_ts: str | None = None,
) -> JSONDict:
    """docs.slack.dev/reference/events/dnd_updated_user: ``dnd_status`` without snooze."""
    return {
        "type": "dnd_updated_user",
        "user": user,
        "dnd_status": {
            "dnd_enabled": dnd_enabled,
            "next_dnd_start_ts": next_dnd_start_ts,
            "next_dnd_end_ts": next_dnd_end_ts,
        },
        "event_ts": event_ts or _fake_ts(),
    }


def reaction_added(
    user: str,
    reaction: str,
    item_channel: str,
    item_ts: str,
    *,
    item_user: str | None = None,
    channel_type: str = "channel",
    event_ts: str | None = None,
) -> JSONDict:
    """docs.slack.dev/reference/events/reaction_added: reaction on a message item."""
    event: JSONDict = {
        "type": "reaction_added",
        "user": user,
        "reaction": reaction,
        "item": {
            "type": "message",
            "channel": item_channel,
            "ts": item_ts,
            "channel_type": channel_type,
        },
        "event_ts": event_ts or _fake_ts(),
    }
    if item_user is not None:  # absent for e.g. incoming-webhook messages
        event["item_user"] = item_user
    return event


def block_actions(
    action_id: str,
    value: str,
    team_id: str = DEFAULT_TEAM_ID,
    user_id: str = "U0000ALICE",
    channel_id: str | None = None,
    message_ts: str | None = None,
    view: JSONDict | None = None,
    *,
    user_name: str = "alice",
    team_domain: str = DEFAULT_TEAM_DOMAIN,
    channel_name: str = "general",
    block_id: str = "actions",
    action_type: str = "button",
    button_text: str = "Button",
    api_app_id: str = DEFAULT_APP_ID,
    bot_user_id: str = DEFAULT_BOT_USER_ID,
    trigger_id: str | None = None,
    response_url: str | None = None,
    token: str = VERIFICATION_TOKEN,
) -> bytes:
    """docs.slack.dev/reference/interaction-payloads/block_actions-payload as ``payload=``."""
    action: JSONDict = {
        "action_id": action_id,
        "block_id": block_id,
        "text": {"type": "plain_text", "text": button_text, "emoji": True},
        "value": value,
        "type": action_type,
        "action_ts": _fake_ts(),
    }
    payload: JSONDict = {
        "type": "block_actions",
        "user": {"id": user_id, "username": user_name, "name": user_name, "team_id": team_id},
        "api_app_id": api_app_id,
        "token": token,
        "trigger_id": trigger_id or _trigger_id(),
        "team": {"id": team_id, "domain": team_domain},
        "enterprise": None,
        "is_enterprise_install": False,
    }
    if view is not None:
        payload["container"] = {"type": "view", "view_id": view.get("id", "V0000000000")}
        payload["view"] = view
    elif message_ts is not None:
        payload["container"] = {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel_id,
            "is_ephemeral": False,
        }
        payload["message"] = {
            "type": "message",
            "user": bot_user_id,
            "ts": message_ts,
            "text": "",
            "team": team_id,
        }
        payload["response_url"] = response_url or _response_url("actions", team_id)
    else:
        raise ValueError("block_actions needs a surface: pass message_ts or view")
    if channel_id is not None:
        payload["channel"] = {"id": channel_id, "name": channel_name}
    payload["state"] = {"values": {}}
    payload["actions"] = [action]
    return urlencode({"payload": json.dumps(payload)}).encode()

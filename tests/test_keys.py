"""Contact keys: one codec from (platform, tenant, user) to the hot path's string and back."""

from __future__ import annotations

import pytest

from core.keys import ContactKey, encode, tenant_prefix


def test_a_key_decodes_to_what_it_was_built_from() -> None:
    key = ContactKey("discord", "81384788765712384", "1000000000000000001")
    assert ContactKey.decode(key.encode()) == key
    assert str(key) == key.encode() == encode("discord", "81384788765712384", "1000000000000000001")


def test_a_user_id_may_hold_the_separator() -> None:
    key = ContactKey("shell", "local", "odd:name")
    assert ContactKey.decode(key.encode()).user == "odd:name"


def test_a_tenant_prefix_plus_a_user_is_that_users_key() -> None:
    assert tenant_prefix("slack", "T1") + "U1" == encode("slack", "T1", "U1")
    assert encode("slack", "T1", "U1").startswith(tenant_prefix("slack", "T1"))
    assert not encode("slack", "T10", "U1").startswith(tenant_prefix("slack", "T1"))


@pytest.mark.parametrize(("platform", "tenant"), [("", "T1"), ("sla:ck", "T1"), ("slack", "T:1")])
def test_a_platform_or_tenant_that_would_not_decode_is_refused(platform: str, tenant: str) -> None:
    with pytest.raises(ValueError, match="platform and tenant"):
        ContactKey(platform, tenant, "U1")


@pytest.mark.parametrize("text", ["slack", "slack:T1", ""])
def test_a_string_that_is_not_a_key_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a contact key"):
        ContactKey.decode(text)

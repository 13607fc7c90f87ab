"""The provider contract (`reconciler/providers/base.py`), tested on every provider.

Each test runs against the embedded SQLite tenant and a real PostgreSQL tenant (a
server the tests start). The tenant enforces the portal's integrity on its own,
whatever Python asks; steps are atomic; identities and the journal are kept;
reads are one snapshot; the lock admits one apply and names it.

A third-party provider runs the same suite: set RECONCILER_CONFORMANCE_URL to a URL
template with `{name}` where a fresh tenant's name goes, e.g.

    RECONCILER_CONFORMANCE_URL='acme://host/db?tenant={name}' \\
        pytest tests/test_provider_conformance.py
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler.providers import Provider, SqliteTenant, open_provider
from reconciler.runtime.errors import TenantError
from schema.state import Kind, NewPassword, ResourceKey, TenantFacts
from tests.postgres_server import tenant_url

FACTS = TenantFacts("6.0", shared_line_licences=2, shared_licensing=True,
                    packages={"Basic": 2, "Premium": 5})
USER = {"name": "A", "package": "Basic", "devices": ["1030"]}
HOT_DESK = {"name": "H", "package": "Basic"}
THIRD_PARTY = os.environ.get("RECONCILER_CONFORMANCE_URL")
PROVIDERS = ["sqlite", "postgresql", *(["third-party"] if THIRD_PARTY else [])]

MakeUrl = Callable[[], str]


def user(number: str) -> ResourceKey:
    return ResourceKey("Main", Kind.USER, number)


def hot_desk(number: str) -> ResourceKey:
    return ResourceKey("Main", Kind.HOT_DESK_USER, number)


def line(number: str) -> ResourceKey:
    return ResourceKey("Main", Kind.SHARED_LINE, number)


@pytest.fixture(params=PROVIDERS)
def make_url(request: pytest.FixtureRequest, tmp_path: Path) -> MakeUrl:
    """A fresh, empty tenant's URL on the provider under test, each call a new one."""
    def fresh() -> str:
        name = f"t{uuid.uuid4().hex[:12]}"
        if request.param == "sqlite":
            return f"sqlite:///{tmp_path / name}.db"
        if request.param == "postgresql":
            return tenant_url(request.getfixturevalue("postgres_server"), name)
        assert THIRD_PARTY is not None
        return THIRD_PARTY.format(name=name)

    return fresh


def _opened(url: str, facts: TenantFacts = FACTS) -> Provider:
    provider = open_provider(url)
    provider.bind("Test Tenant")
    with provider.lock():
        provider.initialise(facts, "Test Tenant")
    return provider


@pytest.fixture
def tenant(make_url: MakeUrl) -> Iterator[Provider]:
    provider = _opened(make_url())
    yield provider
    provider.close()


def refused(action: Callable[[], object], match: str) -> None:
    with pytest.raises(TenantError, match=match):
        action()


def raw(provider: Provider, statement: str) -> Any:
    """SQL straight to the store, behind the provider's back (as the portal would)."""
    if isinstance(provider, SqliteTenant):
        return provider._connection().execute(statement).fetchall()
    from reconciler.providers.pg_tenant import PostgresTenant

    if not isinstance(provider, PostgresTenant):
        pytest.skip("raw SQL is known for the built-in providers only")
    provider._lookup()
    cursor = provider._open().execute(statement.encode())
    return cursor.fetchall() if cursor.description else []


def test_round_trip(tenant: Provider) -> None:
    tenant.create(user("1001"), {**USER, "email": "a@example.com"}, None)
    tenant.create(hot_desk("0901"), HOT_DESK, None)
    tenant.create(line("555"), {"direct_dial_number": "024801028", "forward_to_vm": True,
                                "members": {"0901": {"button": 1, "ring_delay": 3}}}, None)
    state = tenant.read_state()
    assert state.resources[user("1001")]["email"] == "a@example.com"
    assert state.resources[user("1001")]["devices"] == ["1030"]
    assert state.resources[line("555")]["forward_to_vm"] is True
    assert state.resources[line("555")]["members"] == {"0901": {"button": 1, "ring_delay": 3}}
    assert state.facts == FACTS
    assert state.managed == set(state.resources)
    assert state.identity is not None and state.identity.name == "Test Tenant"


def test_a_number_is_used_once_across_kinds_and_never_starts_another(tenant: Provider) -> None:
    tenant.create(user("1001"), USER, None)
    refused(lambda: tenant.create(line("1001"), {}, None), "already used by a user")
    refused(lambda: tenant.create(hot_desk("1001"), HOT_DESK, None), "already taken")
    tenant.create(line("300"), {}, None)
    refused(lambda: tenant.create(user("300"), USER, None), "already used by a shared line")
    refused(lambda: tenant.create(line("30"), {}, None), "starts, or starts with")
    refused(lambda: tenant.create(user("3001"), USER, None), "starts, or starts with")


def test_a_direct_dial_number_rings_one_destination(tenant: Provider) -> None:
    tenant.create(user("1001"), {**USER, "direct_dial_number": "0248"}, None)
    refused(lambda: tenant.create(line("300"), {"direct_dial_number": "0248"}, None),
            "already rings a user")


def test_member_must_exist(tenant: Provider) -> None:
    refused(lambda: tenant.create(line("300"), {"members": {"1999": {"button": None,
                                                                     "ring_delay": 0}}}, None),
            "refused to create shared_line 300: member[(]s[)] 1999 of shared_line 300 are not "
            "users of the tenant; create them first")
    # Atomic: the failed create left no shared line behind.
    assert line("300") not in tenant.read_state().resources


def test_user_with_memberships_cannot_be_deleted(tenant: Provider) -> None:
    tenant.create(user("1001"), USER, None)
    tenant.create(line("300"), {"members": {"1001": {"button": 1, "ring_delay": 0}}}, None)
    refused(lambda: tenant.delete(user("1001")),
            "refused to delete user 1001: user 1001 still belongs to shared line[(]s[)] 300; it "
            "must leave them first")


def test_hot_desk_member_needs_platform_6_and_licensing(make_url: MakeUrl) -> None:
    old = _opened(make_url(), TenantFacts("5.0", 2, True, {"Basic": 2}))
    old.create(hot_desk("0901"), HOT_DESK, None)
    refused(lambda: old.create(line("300"), {"members": {"0901": {"button": None,
                                                                  "ring_delay": 0}}}, None),
            "platform 6.0 and Shared licensing")
    old.close()


def test_features_wait_for_their_platform(make_url: MakeUrl) -> None:
    old = _opened(make_url(), TenantFacts("4.1", 2, True, {"Basic": 2}))
    refused(lambda: old.create(user("1001"), {**USER, "aad_id": "a@example.com"}, None),
            "AAD ID needs platform 5.0")
    old.close()


def test_licences_and_seats_are_counted(tenant: Provider) -> None:
    tenant.create(line("300"), {}, None)
    tenant.create(line("301"), {}, None)
    refused(lambda: tenant.create(line("302"), {}, None),
            "no shared-line licence left [(]2 of 2 in use[)]")
    tenant.create(user("1001"), USER, None)
    tenant.create(user("1002"), USER, None)
    refused(lambda: tenant.create(user("1003"), USER, None),
            "no seat left on package 'Basic' [(]2 of 2 seats in use[)]")
    tenant.delete(user("1002"))
    tenant.create(user("1003"), USER, None)  # the seat was freed
    assert tenant.check_integrity() == []


def test_packages_are_upgraded_never_downgraded(tenant: Provider) -> None:
    tenant.create(user("1001"), {**USER, "package": "Premium"}, None)
    refused(lambda: tenant.update(user("1001"), {"package": "Basic"}, None),
            "can only be upgraded")


def test_user_type_is_fixed(tenant: Provider) -> None:
    tenant.create(user("1001"), USER, None)
    with pytest.raises(Exception, match="type cannot change"):
        raw(tenant, "UPDATE users SET kind = 'hot_desk_user', devices = '[]'")


def test_ring_delay_and_number_format_are_checked(tenant: Provider) -> None:
    tenant.create(user("1001"), USER, None)
    refused(lambda: tenant.create(line("300"), {"members": {"1001": {"button": 1,
                                                                     "ring_delay": 4}}}, None),
            "ring_delay")
    refused(lambda: tenant.create(line("3"), {}, None), "number")


@pytest.mark.parametrize(("key", "fields", "words"), [
    (line("300"), {"members": {"1001": {"button": 1, "ring_delay": 4},
                               "1003": {"button": 2, "ring_delay": 3}}},
     "ring_delay is outside the portal's limits: 0 to 30 seconds in steps of 3 "
     "[(]member 1001: 4 asked[)]; correct it in the config"),
    (line("300"), {"members": {"1001": {"button": 0, "ring_delay": 0}}},
     "button is outside the portal's limits: 1 or more [(]member 1001: 0 asked[)]"),
    (line("3"), {}, "number is outside the portal's limits: 2 to 5 digits [(]'3' asked[)]"),
    (user("1002"), {**USER, "mac": "XYZ"},
     "mac is outside the portal's limits: 12 hexadecimal digits, and only for a user with "
     "a desk phone [(]'XYZ' asked[)]"),
    (hot_desk("0902"), {**HOT_DESK, "mac": "0011AABBCCDD"}, "mac is outside"),
    (hot_desk("0902"), {**HOT_DESK, "devices": ["1030"]},
     "devices is outside the portal's limits: at least one device for a user, none for a "
     "hot desk user [(]\\['1030'\\] asked[)]"),
    (user("1002"), {**USER, "name": " "}, "name is outside the portal's limits: not blank"),
])
def test_a_value_outside_the_portals_limits_is_refused_in_a_users_words(
        tenant: Provider, key: ResourceKey, fields: dict[str, Any], words: str) -> None:
    """Validation holds values to these limits first; this is what a user reads when
    something got past it (a tenant stricter than the model), on both engines."""
    from reconciler.providers.pg_tenant import PostgresTenant

    if not isinstance(tenant, SqliteTenant | PostgresTenant):
        pytest.skip("the built-in providers' wording")
    tenant.create(user("1001"), USER, None)
    tenant.create(user("1003"), {**USER, "package": "Premium"}, None)
    refused(lambda: tenant.create(key, fields, None), f"refused to create {key}: {words}")


def test_missing_resource_update_is_refused(tenant: Provider) -> None:
    refused(lambda: tenant.update(user("4444"), {"name": "x"}, None), "does not exist")
    refused(lambda: tenant.delete(line("4444")), "does not exist")


def test_password_is_stored_hashed_only(tenant: Provider) -> None:
    from reconciler.providers.password_hashing import password_matches

    tenant.create(user("1001"), USER, NewPassword("$RECONCILER_PW_1001", "correct-horse"))
    stored = raw(tenant, "SELECT password_hash FROM users")[0][0]
    assert "correct-horse" not in stored
    assert password_matches("correct-horse", stored)
    assert not password_matches("wrong-horse1", stored)
    assert tenant.read_state().password_from == {user("1001"): "$RECONCILER_PW_1001"}


def test_a_renumber_keeps_the_identity_and_records_where_it_came_from(tenant: Provider) -> None:
    tenant.create(user("1001"), USER, None)
    tenant.create(line("300"), {"members": {"1001": {"button": 1, "ring_delay": 0}}}, None)
    uid = tenant.read_state().uids[user("1001")]
    tenant.renumber(user("1001"), "99999", heading_for="1002")
    parked = tenant.read_state()
    assert parked.uids[user("99999")] == uid
    assert parked.parked == {user("99999"): "1002"}
    assert parked.renumbered_from == {user("99999"): "1001"}
    tenant.renumber(user("99999"), "1002")
    state = tenant.read_state()
    assert state.uids[user("1002")] == uid and state.parked == {}
    assert state.renumbered_from == {user("1002"): "1001"}  # the origin, not the parking spot
    assert state.resources[line("300")]["members"] == {"1002": {"button": 1, "ring_delay": 0}}


def test_the_journal_counts_steps_in_their_own_transaction(tenant: Provider) -> None:
    tenant.begin_apply("sha256:abc", 3, "tester")
    tenant.create(user("1001"), USER, None, step=1)
    refused(lambda: tenant.create(user("1001"), USER, None, step=2), "already taken")
    unfinished = tenant.read_state().unfinished
    assert unfinished is not None
    assert (unfinished.plan_checksum, unfinished.steps_done, unfinished.total_steps) == \
        ("sha256:abc", 1, 3)
    tenant.finish_apply()
    assert tenant.read_state().unfinished is None


def test_a_read_is_one_snapshot(tenant: Provider, make_url: MakeUrl,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    from reconciler.providers import tenant_tables

    tenant.create(user("1001"), USER, None)
    url = getattr(tenant, "description")  # noqa: B009
    if url.startswith("sqlite"):
        other = SqliteTenant(Path(url.removeprefix("sqlite:///")))
    else:
        other = open_provider(_pg_url_of(tenant))
    read_facts = tenant_tables.read_facts

    def facts_then_a_concurrent_write(connection: Any) -> Any:
        facts = read_facts(connection)
        other.create(user("1009"), USER, None)  # another connection, committed
        return facts

    monkeypatch.setattr(tenant_tables, "read_facts", facts_then_a_concurrent_write)
    assert user("1009") not in tenant.read_state().resources
    monkeypatch.undo()
    assert user("1009") in tenant.read_state().resources
    other.close()


def test_a_second_apply_cannot_take_the_lock_and_is_told_who_holds_it(
        tenant: Provider) -> None:
    other = open_provider(_url_of(tenant))
    other.bind("Test Tenant")
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with tenant.lock():
            held.set()
            release.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    held.wait(10)
    try:
        assert other.lock_holder() is not None
        with pytest.raises(TenantError, match=r"is locked by `reconcile.* since "), \
                other.lock():
            pass
    finally:
        release.set()
        thread.join()
    with other.lock():
        pass  # free again once the first apply ends
    assert other.lock_holder() is None
    other.close()


def test_rename_needs_the_old_name(tenant: Provider) -> None:
    refused(lambda: tenant.rename("Acme", "New"), 'holds "Test Tenant", not "Acme"')
    tenant.rename("Test Tenant", "New Name")
    identity = tenant.read_state().identity
    assert identity is not None and identity.name == "New Name"


def test_set_facts_refuses_fewer_seats_than_users(tenant: Provider) -> None:
    assert hasattr(tenant, "set_facts")
    tenant.create(user("1001"), USER, None)
    fewer = TenantFacts("6.0", 2, True, {"Basic": 0, "Premium": 5})
    refused(lambda: tenant.set_facts(fewer),  # type: ignore[attr-defined]
            "package Basic would have 0 seats for 1 users")
    assert tenant.read_state().facts == FACTS  # nothing changed


def test_set_facts_records_an_upgrade(tenant: Provider) -> None:
    upgraded = TenantFacts("6.1", 9, True, {"Basic": 3, "Premium": 5, "Gold": 1})
    tenant.set_facts(upgraded)  # type: ignore[attr-defined]
    assert tenant.read_state().facts == upgraded


def test_a_fresh_tenant_is_empty_and_creating_it_twice_is_a_no_op(make_url: MakeUrl) -> None:
    provider = open_provider(make_url())
    provider.bind("Test Tenant")
    assert not provider.exists()
    assert provider.read_state().resources == {}
    with provider.lock():
        assert provider.initialise(FACTS, "Test Tenant") is not None
        assert provider.initialise(FACTS, "Test Tenant") is None
    assert provider.exists() and provider.check_integrity() == []
    assert provider.schema_version() == provider.latest_schema()
    provider.close()


def _url_of(provider: Provider) -> str:
    description = getattr(provider, "description")  # noqa: B009
    return description if description.startswith("sqlite") else _pg_url_of(provider)


def _pg_url_of(provider: Provider) -> str:
    from reconciler.providers.pg_tenant import PostgresTenant

    assert isinstance(provider, PostgresTenant)
    return f"{provider._conninfo}&tenant={provider._key}" if "?" in provider._conninfo \
        else f"{provider._conninfo}?tenant={provider._key}"

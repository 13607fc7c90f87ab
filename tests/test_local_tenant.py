"""The embedded tenant enforces the portal's integrity on its own, whatever Python asks."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from reconciler.errors import TenantError
from reconciler.providers import SqliteTenant
from schema.state import Kind, NewPassword, ResourceKey, TenantFacts

FACTS = TenantFacts("6.0", shared_line_licences=2, shared_licensing=True,
                    packages={"Basic": 2, "Premium": 5})


def user(number: str) -> ResourceKey:
    return ResourceKey("Main", Kind.USER, number)


def hot_desk(number: str) -> ResourceKey:
    return ResourceKey("Main", Kind.HOT_DESK_USER, number)


def line(number: str) -> ResourceKey:
    return ResourceKey("Main", Kind.SHARED_LINE, number)


USER = {"name": "A", "package": "Basic", "devices": ["1030"]}
HOT_DESK = {"name": "H", "package": "Basic"}


@pytest.fixture
def tenant(tmp_path: Path) -> SqliteTenant:
    provider = SqliteTenant(tmp_path / "tenant.db")
    provider.initialise(FACTS, "Test Tenant")
    return provider


def refused(action: object, match: str) -> None:
    with pytest.raises(TenantError, match=match):
        action()  # type: ignore[operator]


def test_round_trip(tenant: SqliteTenant) -> None:
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


def test_a_number_is_used_once_across_kinds(tenant: SqliteTenant) -> None:
    tenant.create(user("1001"), USER, None)
    refused(lambda: tenant.create(line("1001"), {}, None), "already used by a user")
    refused(lambda: tenant.create(hot_desk("1001"), HOT_DESK, None), "already taken")
    tenant.create(line("300"), {}, None)
    refused(lambda: tenant.create(user("300"), USER, None), "already used by a shared line")


def test_member_must_exist(tenant: SqliteTenant) -> None:
    refused(lambda: tenant.create(line("300"), {"members": {"1999": {"button": None,
                                                                     "ring_delay": 0}}}, None),
            "refused to create shared_line 300: member[(]s[)] 1999 of shared_line 300 are not "
            "users of the tenant; create them first")
    # Atomic: the failed create left no shared line behind.
    assert line("300") not in tenant.read_state().resources


def test_user_with_memberships_cannot_be_deleted(tenant: SqliteTenant) -> None:
    tenant.create(user("1001"), USER, None)
    tenant.create(line("300"), {"members": {"1001": {"button": 1, "ring_delay": 0}}}, None)
    refused(lambda: tenant.delete(user("1001")),
            "refused to delete user 1001: user 1001 still belongs to shared line[(]s[)] 300; it "
            "must leave them first")


def test_hot_desk_member_needs_platform_6_and_licensing(tmp_path: Path) -> None:
    old = SqliteTenant(tmp_path / "old.db")
    old.initialise(TenantFacts("5.0", 2, True, {"Basic": 2}), "Old")
    old.create(hot_desk("0901"), HOT_DESK, None)
    refused(lambda: old.create(line("300"), {"members": {"0901": {"button": None,
                                                                  "ring_delay": 0}}}, None),
            "platform 6.0 and Shared licensing")


def test_licences_and_seats_are_counted(tenant: SqliteTenant) -> None:
    tenant.create(line("300"), {}, None)
    tenant.create(line("301"), {}, None)
    refused(lambda: tenant.create(line("302"), {}, None),
            "no shared-line licence left [(]2 of 2 in use[)]")
    tenant.create(user("1001"), USER, None)
    tenant.create(user("1002"), USER, None)
    refused(lambda: tenant.create(user("1003"), USER, None),
            "no seat left on package 'Basic' [(]2 of 2 seats in use[)]")


def test_user_type_is_fixed(tenant: SqliteTenant) -> None:
    tenant.create(user("1001"), USER, None)
    connection = tenant._connection()
    with pytest.raises(Exception, match="type cannot change"):
        connection.execute("UPDATE users SET kind = 'hot_desk_user', devices = '[]'")


def test_ring_delay_and_number_format_are_checked(tenant: SqliteTenant) -> None:
    tenant.create(user("1001"), USER, None)
    refused(lambda: tenant.create(line("300"), {"members": {"1001": {"button": 1,
                                                                     "ring_delay": 4}}}, None),
            "CHECK")
    refused(lambda: tenant.create(line("3"), {}, None), "CHECK")


def test_missing_resource_update_is_refused(tenant: SqliteTenant) -> None:
    refused(lambda: tenant.update(user("4444"), {"name": "x"}, None), "does not exist")
    refused(lambda: tenant.delete(line("4444")), "does not exist")


def test_password_is_stored_hashed_only(tenant: SqliteTenant) -> None:
    from reconciler.providers.password_hashing import password_matches

    tenant.create(user("1001"), USER, NewPassword("$RECONCILER_PW_1001", "correct-horse"))
    stored = tenant._connection().execute("SELECT password_hash FROM users").fetchone()[0]
    assert "correct-horse" not in stored
    assert password_matches("correct-horse", stored)
    assert not password_matches("wrong-horse1", stored)


def test_a_second_apply_cannot_take_the_lock(tenant: SqliteTenant, tmp_path: Path) -> None:
    other = SqliteTenant(tmp_path / "tenant.db")
    held = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with tenant.lock():
            held.set()
            release.wait(5)

    thread = threading.Thread(target=hold)
    thread.start()
    held.wait(5)
    try:
        with pytest.raises(TenantError, match=r"is locked by `reconcile.* since "), other.lock():
            pass
    finally:
        release.set()
        thread.join()
    with other.lock():
        pass  # free again once the first apply ends


def test_set_facts_refuses_fewer_seats_than_users(tenant: SqliteTenant) -> None:
    tenant.create(user("1001"), USER, None)
    fewer = TenantFacts("6.0", 2, True, {"Basic": 0, "Premium": 5})
    refused(lambda: tenant.set_facts(fewer), "package Basic would have 0 seats for 1 users")
    assert tenant.read_state().facts == FACTS  # nothing changed


def test_set_facts_records_an_upgrade(tenant: SqliteTenant) -> None:
    upgraded = TenantFacts("6.1", 9, True, {"Basic": 3, "Premium": 5, "Gold": 1})
    tenant.set_facts(upgraded)
    assert tenant.read_state().facts == upgraded

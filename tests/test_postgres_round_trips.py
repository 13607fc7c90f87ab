"""What an apply step costs against PostgreSQL, counted on the wire.

A CI runner is often far from its database: every round trip is paid once per step,
100,000 steps on a first apply. libpq's own trace shows each message; the server ends
each answer with ReadyForQuery, so counting those counts the round trips.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Callable, Iterator

import pytest

from reconciler.providers import open_provider
from reconciler.providers.pg_tenant import PostgresTenant
from reconciler.runtime.errors import TenantError
from schema.state import NewPassword
from tests.postgres_server import tenant_url
from tests.test_provider_conformance import FACTS, HOT_DESK, USER, hot_desk, line, user


@pytest.fixture
def tenant(postgres_server: str) -> Iterator[PostgresTenant]:
    provider = open_provider(tenant_url(postgres_server, f"rt{uuid.uuid4().hex[:10]}"))
    assert isinstance(provider, PostgresTenant)
    with provider.lock():
        provider.initialise(FACTS, "Test Tenant")
        provider.begin_apply("sha256:abc", 20, "tester")
        yield provider
    provider.close()


def round_trips(tenant: PostgresTenant, step: Callable[[], object]) -> int:
    connection = tenant._open()  # the wire is what is measured here
    with tempfile.TemporaryFile("w+") as trace:
        connection.pgconn.trace(trace.fileno())
        try:
            step()
        finally:
            connection.pgconn.untrace()
        trace.seek(0)
        return sum(1 for message in trace if "\tB\t" in message and "ReadyForQuery" in message)


def test_every_kind_of_step_is_one_round_trip(tenant: PostgresTenant) -> None:
    members = {"2001": {"button": 5, "ring_delay": 0}, "3001": {"button": 6, "ring_delay": 0}}
    line_fields = {"members": members}
    steps: dict[str, Callable[[], object]] = {
        "create a user": lambda: tenant.create(user("2001"), USER, None, step=1),
        "create a hot desk user": lambda: tenant.create(hot_desk("3001"), HOT_DESK, None,
                                                        step=2),
        "create a line with members": lambda: tenant.create(line("4001"), line_fields, None,
                                                            step=3),
        "update a user's password": lambda: tenant.update(
            user("2001"), {"name": "B"}, NewPassword("$RECONCILER_PW_B", "s3cret-Pw"), step=4),
        "update a line's members": lambda: tenant.update(
            line("4001"), {"members": {"2001": members["2001"]}}, None, step=5),
        "park a user on a temporary number": lambda: tenant.renumber(
            user("2001"), "2999", heading_for="2002", step=6),
        "finish its renumber": lambda: tenant.renumber(user("2999"), "2002", step=7),
        "delete a line": lambda: tenant.delete(line("4001"), step=8),
        "delete a user": lambda: tenant.delete(user("2002"), step=9),
    }
    costs = {name: round_trips(tenant, step) for name, step in steps.items()}
    assert costs == dict.fromkeys(steps, 1)
    state = tenant.read_state()
    assert sorted(key.number for key in state.resources) == ["3001"]
    assert state.unfinished is not None and state.unfinished.steps_done == 9


def test_refusals_between_steps_never_break_the_next_step(tenant: PostgresTenant) -> None:
    # Repeated steps become prepared statements after a few runs; a refusal aborts the
    # pipeline the server was preparing them in, over and over.
    tenant.create(user("2001"), USER, None)
    for round_ in range(12):
        tenant.update(user("2001"), {"name": f"Name {round_}"}, None, step=round_ + 1)
        with pytest.raises(TenantError, match="already taken"):
            tenant.create(user("2001"), USER, None, step=round_ + 1)
        with pytest.raises(TenantError, match="does not exist in the tenant"):
            tenant.delete(user("2999"), step=round_ + 1)
    state = tenant.read_state()
    assert state.resources[user("2001")]["name"] == "Name 11"
    assert state.unfinished is not None and state.unfinished.steps_done == 12


def test_a_refused_step_leaves_nothing_open_and_the_next_one_runs(
        tenant: PostgresTenant) -> None:
    tenant.create(user("2001"), USER, None, step=1)
    missing = "user 2777 does not exist in the tenant"
    for refused, why in (
            (lambda: tenant.update(user("2777"), {"name": "X"}, None, step=2), missing),
            (lambda: tenant.delete(user("2777"), step=2), missing),
            (lambda: tenant.renumber(user("2777"), "2778", step=2), missing),
            (lambda: tenant.create(user("2001"), USER, None, step=2), "already taken")):
        with pytest.raises(TenantError, match=why):
            refused()
    assert round_trips(tenant, lambda: tenant.create(user("2002"), USER, None, step=2)) == 1
    state = tenant.read_state()
    assert sorted(key.number for key in state.resources) == ["2001", "2002"]
    assert state.unfinished is not None and state.unfinished.steps_done == 2

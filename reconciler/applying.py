"""Carrying out a plan: secrets first, then one atomic, journaled tenant write per change.

Everything that can be known before the first write is checked before it (every
secret is read up front). Then, in order:

    1. set up the tenant if it does not exist yet (whole, or not at all)
    2. open the apply's journal in the tenant (the plan's checksum, its steps)
    3. record what tenant.yaml says was bought (seats, licences), in one transaction,
       so the steps that need it find it
    4. each step: one transaction that also moves the journal on
    5. close the journal

If a step fails, the steps before it stand, nothing of the failed step is
written, and a new plan continues from there. Ctrl-C, SIGTERM and a closed
stdout stop the apply between two steps (see `stopping`), so the message can
say exactly how many steps stand. A kill -9 leaves the journal: the next plan
shows it and finishes the work.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import assert_never

from reconciler.loading import secrets
from reconciler.password_prehashing import prehashing
from reconciler.plans import Action, Change, Plan
from reconciler.plans.serializing import checksum
from reconciler.providers.base import Provider, RecordsFacts
from reconciler.providers.lock_holders import LockHolder
from reconciler.runtime import failpoints, standard_output, stopping
from reconciler.runtime.errors import ApplyError, ApplyStopped, TenantError
from schema.state import NewPassword, TenantFacts

Progress = Callable[[int, int, Change], None]
Finished = Callable[["ApplyReport"], None]


@dataclass(slots=True)
class ApplyReport:
    applied: list[Change] = field(default_factory=list)
    #: What setting up the tenant did first ("created ...", "migrated ..."), if anything.
    setup: str | None = None
    #: The facts recorded as bought before the first step, if any ("packages.Basic").
    recorded: tuple[str, ...] = ()


def apply_plan(plan: Plan, provider: Provider, facts: TenantFacts, *,
               plan_checksum: str | None = None, started_by: str | None = None,
               progress: Progress | None = None,
               finished: Finished | None = None,
               environ: Mapping[str, str] | None = None, force: bool = False,
               secret_prefix: str | None = None) -> ApplyReport:
    """Apply every change in order; raise ApplyError naming the step that failed.

    `facts` set up a tenant that does not exist yet, once nothing can stop the
    apply before its first write. A plan over its safety limits is refused
    before anything is written, unless `force`. `progress` reports each step and
    `finished` the end, both while stops are deferred, so that what they print
    and what is said on a stop agree. The journal records `plan_checksum` (worked
    out here if not given) and `started_by` (this process, if not given).
    """
    refuse_unless_forced(plan, force)
    refs = [change.password for change in plan.changes if change.password is not None]
    passwords = secrets.resolve(refs, environ, secret_prefix)
    report = ApplyReport()
    total = len(plan.changes)
    with stopping.deferred() as stop, prehashing(plan.changes, passwords) as hashes:
        report.setup = provider.initialise(facts, plan.tenant)
        stopping.record_written(0, report.setup)
        _stop_if_asked(stop, report, total)
        provider.begin_apply(plan_checksum or checksum(plan), total,
                             started_by or LockHolder.current().who())
        _record_purchase(provider, plan, report, total)
        for index, change in enumerate(plan.changes, start=1):
            _step(provider, change, hashes.for_step(index, change), index, total, report)
            failpoints.reach(f"step-{index}-done")
            if progress is not None:
                try:
                    progress(index, total, change)
                except BrokenPipeError as error:  # a full disk too: OutputLost
                    stop.why = stop.why or standard_output.describe(error)
            if index < total:
                _stop_if_asked(stop, report, total)
        provider.finish_apply()
        try:
            if finished is not None:
                finished(report)
        except BrokenPipeError as error:
            stop.why = stop.why or standard_output.describe(error)
        if stop.why is not None:
            raise ApplyStopped(f"{stop.why} after the last step: all {_standing(report)}")
    return report


def refuse_unless_forced(plan: Plan, force: bool) -> None:
    """Stop a plan over its safety limits, before anything is written or asked."""
    if plan.needs_force and not force:
        raise ApplyError("refusing to apply:\n  " + "\n  ".join(plan.needs_force))


def _step(provider: Provider, change: Change, password: NewPassword | None, index: int,
          total: int,
          report: ApplyReport) -> None:
    try:
        _write(provider, change, password, index)
    except TenantError as error:
        raise ApplyError(
            f"step {index} of {total} failed: {error}. {len(report.applied)} earlier step(s) were "
            "applied and stand; nothing of this "
            "step was written. Fix the cause and run apply again: it plans from the tenant as "
            "it is now"
        ) from error
    except KeyboardInterrupt as interrupt:  # raised inside the step, not by a signal
        raise ApplyStopped(
            f"interrupted at step {index} of {total}. {len(report.applied)} earlier step(s) were "
            "applied and stand; the step in "
            "progress was rolled back. Run apply again to continue"
        ) from interrupt
    report.applied.append(change)
    stopping.record_written(len(report.applied), report.setup)


def _record_purchase(provider: Provider, plan: Plan, report: ApplyReport, total: int) -> None:
    """Seats and licences bought, recorded before the steps that need them. A kill after
    this leaves them recorded: the next plan no longer shows them, and goes on."""
    if plan.purchase is None:
        return
    if not isinstance(provider, RecordsFacts):
        raise ApplyError(f"tenant.yaml says seats or licences were bought, and this tenant "
                         f"cannot record them; no step of {total} was applied")
    try:
        provider.set_facts(plan.purchase.after)
    except TenantError as error:
        raise ApplyError(f"recording what tenant.yaml says was bought failed: {error}. No "
                         f"step of {total} was applied. Fix the cause and run apply "
                         "again") from error
    report.recorded = tuple(change.name for change in plan.purchase.changes)
    failpoints.reach("purchase-done")


def _stop_if_asked(stop: stopping.StopRequest, report: ApplyReport, total: int) -> None:
    if stop.why is None:
        return
    done = len(report.applied)
    if done == 0:
        what = ("nothing was changed" if report.setup is None else
                f"no step was applied ({report.setup}, with no resources yet)")
        raise ApplyStopped(f"{stop.why} before the first step: {what}")
    raise ApplyStopped(
        f"{stop.why} after step {done} of {total}: {_standing(report)}; {total - done} were "
        "not started. Run apply again to continue: the next plan starts where this stopped"
    )


def _standing(report: ApplyReport) -> str:
    return f"{len(report.applied)} step(s) were applied and stand"


def _write(provider: Provider, change: Change, password: NewPassword | None,
           step: int) -> None:
    match change.action:
        case Action.CREATE:
            provider.create(change.key, change.fields, password, step=step)
        case Action.UPDATE:
            provider.update(change.key, change.fields, password, adopt=change.adopt, step=step)
        case Action.RENUMBER:
            provider.renumber(change.key, change.fields["number"], change.heading_for,
                              step=step)
        case Action.DELETE:
            provider.delete(change.key, step=step)
        case _:
            assert_never(change.action)

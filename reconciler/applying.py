"""Carrying out a plan: secrets first, then one atomic tenant write per change.

Everything that can be known before the first write is checked before it (every
secret is read up front). If a step fails, the steps before it stand, nothing of
the failed step is written, and a new plan continues from there: apply is
resumable because it always plans against the tenant as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from reconciler import secrets
from reconciler.errors import ApplyError, TenantError
from reconciler.plans import Action, Change, Plan
from reconciler.providers.base import Provider
from schema.state import TenantFacts

Progress = Callable[[int, int, Change], None]


@dataclass(slots=True)
class ApplyReport:
    applied: list[Change] = field(default_factory=list)


def apply_plan(plan: Plan, provider: Provider, facts: TenantFacts,
               progress: Progress | None = None,
               environ: Mapping[str, str] | None = None, force: bool = False) -> ApplyReport:
    """Apply every change in order; raise ApplyError naming the step that failed.

    `facts` initialise a tenant that does not exist yet, once nothing can stop
    the apply before its first write. A plan over its safety limits is refused
    before anything is written, unless `force`.
    """
    refuse_unless_forced(plan, force)
    refs = [change.password for change in plan.changes if change.password is not None]
    passwords = secrets.resolve(refs, environ)
    provider.initialise(facts)
    report = ApplyReport()
    total = len(plan.changes)
    for index, change in enumerate(plan.changes, start=1):
        password = passwords[change.password] if change.password is not None else None
        try:
            _write(provider, change, password)
        except TenantError as error:
            raise ApplyError(
                f"step {index} of {total} failed: {error}. {len(report.applied)} earlier "
                "step(s) were applied and stand; nothing of this step was written. Fix the "
                "cause and run apply again: it plans from the tenant as it is now"
            ) from error
        except KeyboardInterrupt as interrupt:
            # Said here, where it is known what stands: click would only say "Aborted".
            raise ApplyError(
                f"interrupted at step {index} of {total}. {len(report.applied)} earlier "
                "step(s) were applied and stand; the step in progress was rolled back. Run "
                "apply again to continue"
            ) from interrupt
        report.applied.append(change)
        if progress is not None:
            progress(index, total, change)
    return report


def refuse_unless_forced(plan: Plan, force: bool) -> None:
    """Stop a plan over its safety limits, before anything is written or asked."""
    if plan.needs_force and not force:
        raise ApplyError("refusing to apply:\n  " + "\n  ".join(plan.needs_force))


def _write(provider: Provider, change: Change, password: str | None) -> None:
    if change.action is Action.CREATE:
        provider.create(change.key, change.fields, password)
    elif change.action is Action.UPDATE:
        provider.update(change.key, change.fields, password, adopt=change.adopt)
    elif change.action is Action.RENUMBER:
        provider.renumber(change.key, change.fields["number"])
    else:
        provider.delete(change.key)

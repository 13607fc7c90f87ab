"""Finding values that must be unique but are written twice."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from schema.declarations import Declared


def repeats(declared: Iterable[Declared], value_of: Callable[[Declared], str | None]
            ) -> Iterator[tuple[Declared, Declared, str]]:
    """(later, earlier, value) for each resource whose value an earlier one already has;
    resources without a value (None) are skipped."""
    first: dict[str, Declared] = {}
    for item in declared:
        value = value_of(item)
        if value is None:
            continue
        earlier = first.setdefault(value, item)
        if earlier is not item:
            yield item, earlier, value

"""Validated models as plain values (marshal-able tuples and lists) and back again.

The cache of validated site files (`site_file_cache`) stores what loading gave as
plain values, the fastest Python reads back, and rebuilds the models without
validating them again: they were validated by this very code when stored, and an
entry is only read after its tag verifies. Every model an entry can hold has a shape,
in a fixed order: an entry names a model by its shape's index.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from schema import kinds
from schema.nesting import models_below
from schema.settings import SiteSettings


class NotCacheable(Exception):
    """A value this format cannot hold: the file is simply not cached."""


@dataclass(frozen=True, slots=True)
class _ModelShape:
    """A model's fields in order, and which of them hold models (one, or a list)."""

    model: type[BaseModel]
    names: tuple[str, ...]
    nested: tuple[tuple[int, type[BaseModel], bool], ...]  # (position, model, is a list)


def _shapes() -> list[_ModelShape]:
    """Every model an entry can hold, in a fixed order (an entry names them by index)."""
    pending: list[type[BaseModel]] = [d.model for d in kinds.KINDS.values()] + [SiteSettings]
    shapes: list[_ModelShape] = []
    seen: set[type[BaseModel]] = set()
    while pending:
        model = pending.pop(0)
        if model in seen:
            continue
        seen.add(model)
        nested = []
        for position, (name, info) in enumerate(model.model_fields.items()):
            found = models_below(info.annotation)
            if len(found) > 1:
                raise TypeError(f"{model.__name__}.{name}: one model per field, please")
            if found:
                nested.append((position, *found[0]))
                pending.append(found[0][0])
        shapes.append(_ModelShape(model, tuple(model.model_fields), tuple(nested)))
    return shapes


SHAPES = _shapes()
_SHAPE_INDEX = {shape.model: index for index, shape in enumerate(SHAPES)}
_BITS = [{name: 1 << bit for bit, name in enumerate(shape.names)} for shape in SHAPES]
_set = object.__setattr__


def encode(model: BaseModel) -> tuple[int, list[Any], int]:
    """(shape index, field values in order, the fields written as a bit mask)."""
    index = _SHAPE_INDEX.get(type(model))
    if index is None:
        raise NotCacheable(type(model).__name__)
    shape = SHAPES[index]
    values = model.__dict__
    if tuple(values) != shape.names:
        raise NotCacheable(f"{shape.model.__name__} holds other fields than it declares")
    encoded = list(values.values())
    for position, _, many in shape.nested:
        value = encoded[position]
        if value is None:
            continue
        encoded[position] = [encode(item) for item in value] if many else encode(value)
    bits = _BITS[index]
    mask = 0
    for name in model.model_fields_set:  # a few names: cheaper than testing every field
        mask |= bits[name]
    return index, encoded, mask


_written_sets: dict[int, frozenset[str]] = {}  # by mask << 8 | shape index
# Pydantic's slots, set through their descriptors: this runs for every resource.
_set_fields_set = vars(BaseModel)["__pydantic_fields_set__"].__set__
_set_extra = vars(BaseModel)["__pydantic_extra__"].__set__
_set_private = vars(BaseModel)["__pydantic_private__"].__set__


def decode(encoded: tuple[int, list[Any], int]) -> BaseModel:
    """The model again, as validation made it: its field values and which were written.
    Not validated twice: the entry is this code's own output, authenticated."""
    index, values, mask = encoded
    shape = SHAPES[index]
    for position, _, many in shape.nested:
        value = values[position]
        if value is not None:
            values[position] = [decode(item) for item in value] if many else decode(value)
    written = _written_sets.get(mask << 8 | index)
    if written is None:
        written = frozenset(n for bit, n in enumerate(shape.names) if mask >> bit & 1)
        _written_sets[mask << 8 | index] = written
    model = object.__new__(shape.model)
    _set(model, "__dict__", dict(zip(shape.names, values, strict=True)))
    _set_fields_set(model, set(written))
    _set_extra(model, None)
    _set_private(model, None)
    return model

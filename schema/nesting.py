"""Which pydantic models a field's annotation holds, for code that walks models by type
(the loader's "allowed fields here" hints, the cache's encoding of nested models)."""

from __future__ import annotations

import typing
from typing import Any

from pydantic import BaseModel


def models_below(annotation: Any) -> list[tuple[type[BaseModel], bool]]:
    """Each model an annotation holds, and whether as a list's items:
    list[Member] -> [(Member, True)]; Annotated[SecretRef, ...] | None ->
    [(SecretRef, False)]."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [(annotation, False)]
    if typing.get_origin(annotation) is list:
        return [(model, True) for model, _ in models_below(typing.get_args(annotation)[0])]
    return [found for argument in typing.get_args(annotation)
            for found in models_below(argument)]

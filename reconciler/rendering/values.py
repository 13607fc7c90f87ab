"""How a single value is written in a rendered plan."""

from __future__ import annotations

import json
from typing import Any

from schema.fields import SecretRef


def show(value: Any) -> str:
    """JSON spelling: strings quoted, so "0901" and 901 never look alike."""
    if isinstance(value, dict) and set(value) == {"button", "ring_delay"}:
        return show_member(value)
    return json.dumps(value, ensure_ascii=False)


def show_member(member: dict[str, Any]) -> str:
    button = "no button" if member["button"] is None else f"button {member['button']}"
    return f"{button}, ring delay {member['ring_delay']}s"


def show_secret(ref: SecretRef) -> str:
    return f"(sensitive, from {ref.describe()})"

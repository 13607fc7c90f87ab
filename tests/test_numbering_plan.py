"""The one collision rule every part of the tool asks: equal, starts with, or started by."""

from __future__ import annotations

from schema.numbering_plan import NumberSet


def test_collisions_in_every_direction() -> None:
    numbers = NumberSet(["55", "1001", "20345"])
    assert numbers.collision("55") == "55"            # equal
    assert numbers.collision("5512") == "55"          # starts with a shorter number
    assert numbers.collision("10") == "1001"          # is the start of a longer one
    assert numbers.collision("203") == "20345"
    assert numbers.collision("1002") is None


def test_ignoring_a_number_that_moves_away() -> None:
    numbers = NumberSet(["100", "200"])
    assert numbers.collision("10", ignoring="100") is None
    numbers.remove("200")
    numbers.add("2001")
    assert numbers.collision("20") == "2001"
    assert numbers.collision("200") == "2001"

"""JSON payload conversion, guided by type hints."""

from __future__ import annotations

import dataclasses
import enum
from typing import Dict, List, Optional, Tuple

import pytest

from durable import PayloadError, converter


class Color(enum.Enum):
    RED = "red"


@dataclasses.dataclass
class Item:
    name: str
    price: float
    tags: List[str] = dataclasses.field(default_factory=list)
    color: Optional[Color] = None


@dataclasses.dataclass
class Cart:
    items: List[Item]
    counts: Dict[str, int]


def round_trip(value, hint=None):
    return converter.decode(converter.encode(value), hint)


def test_json_is_what_the_cpp_facade_reads():
    assert converter.encode(35).data == b"35"
    assert converter.encode("hi").data == b'"hi"'
    assert converter.encode(35).encoding == "json/plain"
    assert converter.encode(None).encoding == "binary/null"
    assert round_trip(None) is None


def test_dataclasses_nest_and_convert_back():
    cart = Cart(items=[Item("a", 1, ["x"], Color.RED)], counts={"a": 2})
    assert converter.encode(cart).data == (
        b'{"items":[{"name":"a","price":1,"tags":["x"],"color":"red"}],"counts":{"a":2}}')
    back = round_trip(cart, Cart)
    assert back == Cart(items=[Item("a", 1.0, ["x"], Color.RED)], counts={"a": 2})
    assert isinstance(back.items[0].price, float)


def test_generic_hints():
    assert round_trip((1, "a"), Tuple[int, str]) == (1, "a")
    assert round_trip([1, 2], List[float]) == [1.0, 2.0]
    assert round_trip(None, Optional[int]) is None
    assert round_trip(3, Optional[int]) == 3


def test_wrong_shapes_name_the_expected_type():
    with pytest.raises(PayloadError, match="expected a JSON integer"):
        round_trip("x", int)
    with pytest.raises(PayloadError, match="dataclass Item"):
        round_trip([1], Item)
    with pytest.raises(PayloadError, match="cannot encode"):
        converter.encode(object())
    with pytest.raises(PayloadError, match="unsupported payload encoding"):
        converter.decode(converter.common_pb2.Payload(encoding="binary/protobuf", data=b"x"))

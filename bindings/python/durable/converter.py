"""Payload conversion: Python values <-> ``durable.v1.Payload``.

The default encoding is ``json/plain`` (UTF-8 JSON text), the one every durable
language layer reads and writes, so a Python workflow can call a C++ activity
and the other way round. ``None`` is encoded as ``binary/null`` (what the C++
facade writes for ``void``), and both ``binary/null`` and JSON ``null`` decode
to ``None``.

Encoding accepts what :func:`json.dumps` accepts plus dataclasses (as objects
of their fields), enums (their value), tuples and sets (arrays) and
``datetime``/``date`` (ISO 8601 strings).

Decoding is guided by a type hint when there is one (the parameter and return
annotations of workflows and activities, or ``result_type=``): dataclasses are
rebuilt from objects, ``list[T]``, ``dict[str, T]``, ``tuple[...]``,
``Optional[T]``/``Union``, enums, ``datetime`` and ``float`` (from a JSON
integer) are converted, and a value of the wrong JSON shape raises
:class:`~durable.errors.PayloadError` naming the expected type. Without a hint
the plain JSON value is returned.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import inspect
import json
import typing
from typing import Any, Optional

from durable._proto import common_pb2
from durable.errors import PayloadError

__all__ = ["JSON_ENCODING", "NULL_ENCODING", "encode", "decode", "decode_call_arguments",
           "to_json_value", "from_json_value"]

JSON_ENCODING = "json/plain"
NULL_ENCODING = "binary/null"


def to_json_value(value: Any) -> Any:
    """Converts ``value`` into plain JSON-compatible Python data."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json_value(getattr(value, f.name))
                for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return to_json_value(value.value)
    if isinstance(value, dict):
        return {str(k.value if isinstance(k, enum.Enum) else k): to_json_value(v)
                for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_json_value(v) for v in value]
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    raise PayloadError(f"cannot encode a value of type {type(value).__name__} as JSON")


def encode(value: Any) -> common_pb2.Payload:
    """Encodes ``value`` as a payload (``json/plain``, or ``binary/null`` for None)."""
    if value is None:
        return common_pb2.Payload(encoding=NULL_ENCODING)
    try:
        text = json.dumps(to_json_value(value), separators=(",", ":"), ensure_ascii=False,
                          allow_nan=False)
    except ValueError as e:
        raise PayloadError(f"cannot encode {value!r} as JSON: {e}") from None
    return common_pb2.Payload(encoding=JSON_ENCODING, data=text.encode("utf-8"))


def decode(payload: common_pb2.Payload, type_hint: Any = None) -> Any:
    """Decodes a payload, converting to ``type_hint`` when one is given."""
    if payload.encoding == NULL_ENCODING or (payload.encoding == "" and not payload.data):
        value = None
    elif payload.encoding == JSON_ENCODING:
        try:
            value = json.loads(payload.data.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as e:
            raise PayloadError(f"payload is not valid JSON: {e}") from None
    else:
        raise PayloadError(
            f"unsupported payload encoding {payload.encoding!r} (the Python binding reads "
            f"{JSON_ENCODING!r} and {NULL_ENCODING!r})")
    if type_hint is None or type_hint is Any:
        return value
    return from_json_value(value, type_hint)


def _type_name(hint: Any) -> str:
    return getattr(hint, "__name__", None) or str(hint).replace("typing.", "")


def from_json_value(value: Any, hint: Any) -> Any:
    """Converts plain JSON data to ``hint`` (see the module docstring)."""
    if hint is None or hint is Any or hint is object:
        return value
    if hint is type(None):
        if value is not None:
            raise PayloadError(f"expected null, got {value!r}")
        return None
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is typing.Union or (origin is not None and str(origin) == "<class 'types.UnionType'>"):
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return from_json_value(value, arg)
            except PayloadError as e:
                errors.append(str(e))
        raise PayloadError(f"cannot decode {value!r} as {_type_name(hint)}: {'; '.join(errors)}")
    if origin in (list, typing.List, set, frozenset, typing.Sequence) or hint in (list, set):
        if not isinstance(value, list):
            raise PayloadError(f"expected a JSON array for {_type_name(hint)}, got {value!r}")
        item = args[0] if args else None
        items = [from_json_value(v, item) for v in value]
        return set(items) if origin in (set, frozenset) or hint is set else items
    if origin is tuple or hint is tuple:
        if not isinstance(value, list):
            raise PayloadError(f"expected a JSON array for {_type_name(hint)}, got {value!r}")
        if args and not (len(args) == 2 and args[1] is Ellipsis):
            if len(args) != len(value):
                raise PayloadError(f"expected {len(args)} items for {_type_name(hint)}, "
                                   f"got {len(value)}")
            return tuple(from_json_value(v, a) for v, a in zip(value, args))
        item = args[0] if args else None
        return tuple(from_json_value(v, item) for v in value)
    if origin in (dict, typing.Dict, typing.Mapping) or hint is dict:
        if not isinstance(value, dict):
            raise PayloadError(f"expected a JSON object for {_type_name(hint)}, got {value!r}")
        val_hint = args[1] if len(args) == 2 else None
        return {k: from_json_value(v, val_hint) for k, v in value.items()}
    if origin is typing.Literal:
        if value not in args:
            raise PayloadError(f"expected one of {args!r}, got {value!r}")
        return value
    if isinstance(hint, type):
        if dataclasses.is_dataclass(hint):
            if not isinstance(value, dict):
                raise PayloadError(f"expected a JSON object for dataclass {hint.__name__}, "
                                   f"got {value!r}")
            hints = typing.get_type_hints(hint)
            kwargs = {}
            for f in dataclasses.fields(hint):
                if f.name in value:
                    kwargs[f.name] = from_json_value(value[f.name], hints.get(f.name))
            try:
                return hint(**kwargs)
            except TypeError as e:
                raise PayloadError(f"cannot build {hint.__name__} from {value!r}: {e}") from None
        if issubclass(hint, enum.Enum):
            try:
                return hint(value)
            except ValueError as e:
                raise PayloadError(str(e)) from None
        if hint is bool:
            if not isinstance(value, bool):
                raise PayloadError(f"expected a JSON boolean, got {value!r}")
            return value
        if hint is int:
            if isinstance(value, bool) or not isinstance(value, int):
                if isinstance(value, float) and value.is_integer():
                    return int(value)
                raise PayloadError(f"expected a JSON integer for int, got {value!r}")
            return value
        if hint is float:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise PayloadError(f"expected a JSON number for float, got {value!r}")
            return float(value)
        if hint is str:
            if not isinstance(value, str):
                raise PayloadError(f"expected a JSON string for str, got {value!r}")
            return value
        if hint is datetime.datetime:
            return datetime.datetime.fromisoformat(value)
        if hint is datetime.date:
            return datetime.date.fromisoformat(value)
        if hint is datetime.timedelta:
            return datetime.timedelta(seconds=value)
        if isinstance(value, hint):
            return value
        try:
            return hint(value)
        except Exception as e:  # noqa: BLE001 - report any constructor failure
            raise PayloadError(f"cannot decode {value!r} as {hint.__name__}: {e}") from None
    return value


def decode_arguments(payloads: typing.Sequence[common_pb2.Payload],
                     hints: typing.Sequence[Optional[Any]]) -> list:
    """Decodes one payload per parameter, padding missing hints with None."""
    hints = list(hints) + [None] * (len(payloads) - len(hints))
    return [decode(p, h) for p, h in zip(payloads, hints)]


def decode_call_arguments(what: str, payloads: typing.Sequence[common_pb2.Payload],
                          hints: typing.Sequence[Optional[Any]],
                          signature: inspect.Signature) -> list:
    """Decodes the arguments of a call of ``what`` (e.g. ``activity "add"``).

    Checks the count against ``signature`` first, then decodes one payload
    per parameter. Raises :class:`~durable.errors.PayloadError` naming what
    was wrong, with the same wording as the C++ facade: ``activity "add"
    expects 2 argument(s), got 1``, ``activity "add" argument 2 of 2:
    expected a JSON integer for int, got 'two'``.
    """
    positional = [p for p in signature.parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    required = sum(1 for p in positional if p.default is p.empty)
    variadic = any(p.kind is p.VAR_POSITIONAL for p in signature.parameters.values())
    given = len(payloads)
    if given < required or (not variadic and given > len(positional)):
        if variadic:
            expected = f"at least {required}"
        elif required == len(positional):
            expected = str(required)
        else:
            expected = f"{required} to {len(positional)}"
        raise PayloadError(f"{what} expects {expected} argument(s), got {given}")
    hints = list(hints) + [None] * (given - len(hints))
    args = []
    for index, (payload, hint) in enumerate(zip(payloads, hints)):
        try:
            args.append(decode(payload, hint))
        except PayloadError as e:
            raise PayloadError(f"{what} argument {index + 1} of {given}: {e}") from None
    try:
        signature.bind(*args)
    except TypeError as e:  # e.g. a required keyword-only parameter
        raise PayloadError(f"{what}: {e}") from None
    return args

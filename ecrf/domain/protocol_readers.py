"""Readers of protocol-file values, shared by the protocol, endpoint and eligibility parsers.

Each reader takes a value and the dotted key path it was read from
(``versions.0.endpoints.2.time_point.day``) and returns it in its Python type, or raises
DomainError naming that path, so every parser reports a bad value the same way.

One whitespace rule: surrounding whitespace never carries meaning. Every text read (free text,
a code, a choice, a number written as text) is stripped of it before it is checked, and the
stripped text is what the reader returns; a text that is empty once stripped is missing. Inner
whitespace is kept ("Week 4" stays "Week 4").
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any, TypeVar

from ecrf.domain.errors import DomainError

CODE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")

T = TypeVar("T")
KeyPath = str | Callable[[str], str]  # a prefix, or what names each key of a mapping


def key_path(prefix: object, *keys: object) -> str:
    """``key_path("versions.0", "endpoints", 2)`` is ``versions.0.endpoints.2``; empty parts are
    skipped, so the top level of a file has no leading dot."""
    return ".".join(str(part) for part in (prefix, *keys) if str(part) != "")


def is_missing(value: object) -> bool:
    """Absent, null, an empty list or a text that is only whitespace."""
    return value is None or value == [] or (isinstance(value, str) and not value.strip())


def mapping(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise DomainError(where, f"must be a mapping, not {type(value).__name__}")
    return value


def list_of_mappings(value: object, where: str) -> list[Mapping[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(item, Mapping) for item in value):
        raise DomainError(where, "must be a list of mappings")
    return value


def reject_unknown_keys(raw: Mapping[str, Any], allowed: Iterable[str], where: KeyPath) -> None:
    """A misspelt key would otherwise be ignored: refuse it, listing the keys of this place."""
    allowed = tuple(allowed)
    for key in raw:
        if key not in allowed:
            raise DomainError(_named(where, key), f"unknown key (allowed: {', '.join(allowed)})")


def require_keys(raw: Mapping[str, Any], required: Iterable[str], where: KeyPath) -> None:
    for key in required:
        if is_missing(raw.get(key)):
            raise DomainError(_named(where, key), "is required")


def text(value: object, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise DomainError(where, "must be a non-empty text")
    return value.strip()


def code(value: object, where: str) -> str:
    """An identifier of the protocol: a letter, then letters, digits and underscores."""
    if not isinstance(value, str) or not CODE.match(value.strip()):
        raise DomainError(where, "must start with a letter and hold only letters, digits and _")
    return value.strip()


def choice(value: object, where: str, choices: Iterable[Any]) -> Any:
    """One of `choices` (texts, or the members of a text Enum, which is then what is returned)."""
    options = list(choices)
    allowed = [str(option.value if isinstance(option, Enum) else option) for option in options]
    read = value.strip() if isinstance(value, str) else None
    if read not in allowed:
        raise DomainError(where, f"must be one of {', '.join(allowed)}, not {value!r}")
    return options[allowed.index(read)]


def boolean(value: object, where: str) -> bool:
    if not isinstance(value, bool):
        raise DomainError(where, f"must be true or false, not {value!r}")
    return value


def integer(value: object, where: str, *, minimum: int | None = None) -> int:
    """A whole number as written in the file (YAML 3, not "3" nor 3.0)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise DomainError(where, f"must be a whole number, not {value!r}")
    if minimum is not None and value < minimum:
        raise DomainError(where, f"must be at least {minimum}, not {value}")
    return value


def decimal(value: object, where: str, *, minimum: Decimal | int | None = None) -> Decimal:
    """A finite number: an integer, a decimal text ("29.9") or a float, read through its text so
    that 0.1 stays 0.1."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        raise DomainError(where, f"must be a number, not {value!r}")
    try:
        number = Decimal(value.strip() if isinstance(value, str) else str(value))
    except InvalidOperation:
        raise DomainError(where, f"must be a number, not {value!r}") from None
    if not number.is_finite():
        raise DomainError(where, f"must be a finite number, not {value!r}")
    if minimum is not None and number < minimum:
        raise DomainError(where, f"must be at least {minimum}, not {value}")
    return number


def date(value: object, where: str) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise DomainError(where, "must be a date (YYYY-MM-DD)")


def optional(
    value: object, where: str, read: Callable[..., T], *args: Any, **options: Any
) -> T | None:
    """None when the value is absent or null, else what `read` makes of it."""
    return None if value is None else read(value, where, *args, **options)


def text_list(value: object, where: str) -> list[str]:
    if not isinstance(value, list):
        raise DomainError(where, "must be a list of texts")
    return [text(item, f"{where}.{index}") for index, item in enumerate(value)]


def _named(where: KeyPath, key: str) -> str:
    return where(key) if callable(where) else key_path(where, key)


REQUIRED: Any = object()  # the default of a key that must be given


def field(
    raw: Mapping[str, Any],
    key: str,
    prefix: str,
    read: Callable[..., T],
    *args: Any,
    default: Any = REQUIRED,
    **options: Any,
) -> T:
    """``raw[key]`` read by `read` under the path ``prefix.key``; when the key is absent or null,
    `default`, or "is required" when there is none."""
    value = raw.get(key)
    where = key_path(prefix, key)
    if value is None:
        if default is REQUIRED:
            raise DomainError(where, "is required")
        return default
    return read(value, where, *args, **options)


def check_keys(raw: Mapping[str, Any], allowed: Mapping[str, bool], prefix: str) -> None:
    """Unknown keys refused, the required ones (``True`` in `allowed`) demanded."""
    reject_unknown_keys(raw, allowed, prefix)
    require_keys(raw, [key for key, required in allowed.items() if required], prefix)


def unique_codes(items: Sequence[Mapping[str, Any]], prefix: str) -> None:
    """No two items of a list share a code; the error names the second one."""
    seen: set[str] = set()
    for index, item in enumerate(items):
        code = item["code"]
        if code in seen:
            raise DomainError(key_path(prefix, index, "code"), f"duplicate code {code!r}")
        seen.add(code)

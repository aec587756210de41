"""Allocation lists: stratified permuted blocks of randomly varying size.

A list is generated once, before randomization starts, from a seed (or uploaded by the trial
statistician as CSV and checked here); the application then hands out its slots in number order
within the patient's stratum. Varying the block size keeps the next allocation unguessable to
site staff who know the ratio.

Slot numbers: stratum n (1-based, in the order given) owns the numbers n × B + 1 … n × B + S, where
S is ``slots_per_stratum`` and B the smallest power of ten above S, at least 1000. So the first
stratum is numbered 1001, 1002, …, the second 2001, …; the stratum can be read off the number and
numbers never collide.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from ecrf.domain.errors import DomainError

MIN_NUMBER_BASE = 1000
STRATUM_SEPARATOR = "|"
FACTOR_ASSIGNMENT = "="
CSV_COLUMNS = ("number", "stratum", "arm")
FIRST_DATA_LINE = 2  # line 1 of the file is the header


@dataclass(frozen=True)
class AllocationSlot:
    number: int
    stratum: str
    arm: str
    block: int | None  # 1-based within the stratum; None when an uploaded list does not say
    block_size: int | None


# --- Generation -------------------------------------------------------------------------------


def _validate_arms(arms: Sequence[tuple[str, int]]) -> dict[str, int]:
    if not arms:
        raise DomainError("arms", "at least one arm is needed")
    ratios: dict[str, int] = {}
    for index, (code, ratio) in enumerate(arms):
        if not isinstance(code, str) or not code.strip():
            raise DomainError(f"arms.{index}.code", "must be a non-empty arm code")
        if code in ratios:
            raise DomainError(f"arms.{index}.code", f"arm {code!r} is listed twice")
        if isinstance(ratio, bool) or not isinstance(ratio, int) or ratio < 1:
            raise DomainError(f"arms.{index}.ratio", "must be a positive whole number")
        ratios[code] = ratio
    return ratios


def _validate_strata(strata: Sequence[str]) -> None:
    if not strata:
        raise DomainError("strata", "at least one stratum is needed")
    seen: set[str] = set()
    for index, stratum in enumerate(strata):
        if not isinstance(stratum, str) or not stratum.strip():
            raise DomainError(f"strata.{index}", "must be a non-empty stratum key")
        if stratum in seen:
            raise DomainError(f"strata.{index}", f"stratum {stratum!r} is listed twice")
        seen.add(stratum)


def _validate_block_sizes(block_sizes: Sequence[int], ratio_sum: int) -> None:
    if not block_sizes:
        raise DomainError("block_sizes", "at least one block size is needed")
    for index, size in enumerate(block_sizes):
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise DomainError(f"block_sizes.{index}", "must be a positive whole number")
        if size % ratio_sum:
            raise DomainError(
                "block_sizes",
                f"block size {size} is not a multiple of the allocation ratio total {ratio_sum}",
            )


def number_base(slots_per_stratum: int) -> int:
    """The per-stratum numbering base: a power of ten above ``slots_per_stratum``, ≥ 1000."""
    base = MIN_NUMBER_BASE
    while base <= slots_per_stratum:
        base *= 10
    return base


def _block(ratios: Mapping[str, int], size: int, rng: random.Random) -> list[str]:
    """One permuted block: each arm ratio × (size ÷ ratio total) times, shuffled."""
    repeats = size // sum(ratios.values())
    arms = [code for code, ratio in ratios.items() for _ in range(ratio * repeats)]
    rng.shuffle(arms)
    return arms


def _stratum_slots(
    stratum: str,
    first_number: int,
    ratios: Mapping[str, int],
    block_sizes: Sequence[int],
    slots: int,
    rng: random.Random,
) -> list[AllocationSlot]:
    """Whole blocks until the stratum is full; only the last block may be cut short."""
    result: list[AllocationSlot] = []
    block = 0
    while len(result) < slots:
        block += 1
        size = rng.choice(block_sizes)
        for arm in _block(ratios, size, rng)[: slots - len(result)]:
            result.append(AllocationSlot(first_number + len(result), stratum, arm, block, size))
    return result


def generate_allocation_list(
    arms: Sequence[tuple[str, int]],
    strata: Sequence[str],
    *,
    block_sizes: Sequence[int],
    slots_per_stratum: int,
    seed: int,
) -> list[AllocationSlot]:
    """The full list, stratum by stratum in the order given; the same inputs give the same list.

    ``arms`` are (code, ratio) pairs, e.g. ``[("TAC_DAN", 1), ("DAN", 1)]``; each block size is
    drawn uniformly from ``block_sizes`` with ``random.Random(seed)``.
    """
    ratios = _validate_arms(arms)
    _validate_strata(strata)
    _validate_block_sizes(block_sizes, sum(ratios.values()))
    if isinstance(slots_per_stratum, bool) or not isinstance(slots_per_stratum, int):
        raise DomainError("slots_per_stratum", "must be a whole number")
    if slots_per_stratum < 1:
        raise DomainError("slots_per_stratum", "must be at least 1")
    rng = random.Random(seed)
    base = number_base(slots_per_stratum)
    slots: list[AllocationSlot] = []
    for index, stratum in enumerate(strata, start=1):
        slots += _stratum_slots(
            stratum, index * base + 1, ratios, block_sizes, slots_per_stratum, rng
        )
    return slots


# --- Strata -----------------------------------------------------------------------------------


def _check_key_part(value: str, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise DomainError(field, "must not be blank")
    if STRATUM_SEPARATOR in value or FACTOR_ASSIGNMENT in value:
        raise DomainError(field, f"must not contain {STRATUM_SEPARATOR!r} or {FACTOR_ASSIGNMENT!r}")
    return value.strip()


def stratum_key(site_code: str, factors: Mapping[str, str], factor_order: Sequence[str]) -> str:
    """``SITE`` for site-only stratification, else ``SITE|name=value|name=value`` in
    ``factor_order`` (the protocol's order), so the same patient always gets the same key."""
    parts = [_check_key_part(site_code, "site_code")]
    for name in factor_order:
        if name not in factors:
            raise DomainError(f"factors.{name}", "stratification factor is missing")
        name_part = _check_key_part(name, f"factors.{name}")
        parts.append(
            f"{name_part}{FACTOR_ASSIGNMENT}{_check_key_part(factors[name], f'factors.{name}')}"
        )
    for name in factors:
        if name not in factor_order:
            raise DomainError(f"factors.{name}", "is not a stratification factor of the protocol")
    return STRATUM_SEPARATOR.join(parts)


# --- Uploaded lists ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RowProblem:
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}, {self.column}: {self.message}"


class AllocationListError(DomainError):
    """Every problem of an uploaded allocation list at once, each with its line number."""

    def __init__(self, problems: Iterable[RowProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("rows", "; ".join(str(problem) for problem in self.problems))


_WHOLE_NUMBER = re.compile(r"\d+")


def _cell(row: Mapping[str, object], column: str) -> str:
    value = row.get(column)
    return "" if value is None else str(value).strip()


def _positive_int(
    row: Mapping[str, object], column: str, line: int, problems: list[RowProblem]
) -> int | None:
    text = _cell(row, column)
    if not text:
        problems.append(RowProblem(line, column, "is blank"))
        return None
    if not _WHOLE_NUMBER.fullmatch(text) or int(text) == 0:
        problems.append(RowProblem(line, column, f"{text!r} is not a positive whole number"))
        return None
    return int(text)


def _optional_positive_int(
    row: Mapping[str, object], column: str, line: int, problems: list[RowProblem]
) -> int | None:
    return _positive_int(row, column, line, problems) if _cell(row, column) else None


def _known(
    row: Mapping[str, object],
    column: str,
    allowed: Sequence[str],
    line: int,
    problems: list[RowProblem],
) -> str | None:
    text = _cell(row, column)
    if not text:
        problems.append(RowProblem(line, column, "is blank"))
        return None
    if text not in allowed:
        problems.append(
            RowProblem(line, column, f"unknown {column} {text!r} (expected {', '.join(allowed)})")
        )
        return None
    return text


@dataclass
class _UploadCheck:
    arm_codes: Sequence[str]
    strata: Sequence[str]
    problems: list[RowProblem] = field(default_factory=list)
    first_line_of_number: dict[int, int] = field(default_factory=dict)

    def row(self, row: Mapping[str, object], line: int) -> AllocationSlot | None:
        number = _positive_int(row, "number", line, self.problems)
        stratum = _known(row, "stratum", self.strata, line, self.problems)
        arm = _known(row, "arm", self.arm_codes, line, self.problems)
        block = _optional_positive_int(row, "block", line, self.problems)
        block_size = _optional_positive_int(row, "block_size", line, self.problems)
        if number is not None:
            first_line = self.first_line_of_number.setdefault(number, line)
            if first_line != line:
                self.problems.append(
                    RowProblem(line, "number", f"{number} duplicates line {first_line}")
                )
                return None
        if number is None or stratum is None or arm is None:
            return None
        return AllocationSlot(number, stratum, arm, block, block_size)


def validate_allocation_rows(
    rows: Sequence[Mapping[str, object]],
    *,
    arm_codes: Sequence[str],
    strata: Sequence[str],
) -> list[AllocationSlot]:
    """Check a statistician's list (rows as from ``csv.DictReader``) and return it as slots.

    Columns ``number``, ``stratum`` and ``arm`` are required, ``block`` and ``block_size``
    optional. Line numbers count the header as line 1, so row i (0-based) is line i + 2. All
    problems are collected and raised together as one AllocationListError.
    """
    if not rows:
        raise AllocationListError([RowProblem(1, "rows", "the list has no allocation rows")])
    header = set(rows[0])
    missing = [column for column in CSV_COLUMNS if column not in header]
    if missing:
        raise AllocationListError(
            RowProblem(1, column, "column is missing from the header") for column in missing
        )
    check = _UploadCheck(arm_codes, strata)
    slots = [check.row(row, line) for line, row in enumerate(rows, start=FIRST_DATA_LINE)]
    if check.problems:
        raise AllocationListError(check.problems)
    return [slot for slot in slots if slot is not None]


# --- Balance ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BlockBalance:
    stratum: str
    block: int
    block_size: int | None
    counts: Mapping[str, int]
    complete: bool
    balanced: bool | None  # None for a block cut short: its balance cannot be judged


def _is_balanced(ratios: Mapping[str, int], counts: Mapping[str, int], block_size: int) -> bool:
    """A complete block is balanced when each arm has ratio × (size ÷ ratio total) slots."""
    ratio_sum = sum(ratios.values())
    if block_size % ratio_sum:
        return False
    expected = {code: ratio * block_size // ratio_sum for code, ratio in ratios.items()}
    return dict(counts) == expected


def block_balance(
    arms: Sequence[tuple[str, int]], slots: Iterable[AllocationSlot]
) -> dict[tuple[str, int], BlockBalance]:
    """Arm counts per (stratum, block), and whether each complete block matches the ratio.

    Slots without block information (some uploaded lists) are left out.
    """
    ratios = _validate_arms(arms)
    grouped: dict[tuple[str, int], list[AllocationSlot]] = {}
    for slot in slots:
        if slot.block is not None:
            grouped.setdefault((slot.stratum, slot.block), []).append(slot)
    balance: dict[tuple[str, int], BlockBalance] = {}
    for (stratum, block), members in grouped.items():
        size = members[0].block_size
        counts = dict(Counter(slot.arm for slot in members))
        complete = size is not None and len(members) == size
        balanced = _is_balanced(ratios, counts, size) if complete and size else None
        balance[(stratum, block)] = BlockBalance(stratum, block, size, counts, complete, balanced)
    return balance

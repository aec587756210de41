from __future__ import annotations

from collections import Counter

import pytest

from ecrf.domain.errors import DomainError
from ecrf.domain.randomization import (
    AllocationListError,
    AllocationSlot,
    RowProblem,
    block_balance,
    generate_allocation_list,
    number_base,
    stratum_key,
    validate_allocation_rows,
)

ONE_TO_ONE = [("TAC_DAN", 1), ("DAN", 1)]
TWO_TO_ONE = [("TAC", 2), ("PRED", 1)]
SITES = ["PUMCH", "PKUPH", "PKUTH", "BJH"]


def generate(arms=ONE_TO_ONE, strata=SITES, block_sizes=(4, 6), slots=60, seed=20240101):
    return generate_allocation_list(
        arms, strata, block_sizes=list(block_sizes), slots_per_stratum=slots, seed=seed
    )


# --- Generation -------------------------------------------------------------------------------


def test_same_seed_gives_the_same_list():
    assert generate(seed=7) == generate(seed=7)


def test_different_seeds_give_different_lists():
    assert [slot.arm for slot in generate(seed=7)] != [slot.arm for slot in generate(seed=8)]


def test_list_for_a_seed_is_pinned():
    # A list already in use must be reproducible from its seed: changing the algorithm breaks this.
    slots = generate_allocation_list(
        [("A", 1), ("B", 1)], ["S1", "S2"], block_sizes=[2, 4], slots_per_stratum=12, seed=42
    )
    assert "".join(slot.arm for slot in slots if slot.stratum == "S1") == "BABBAABAABBA"
    assert [slot.block_size for slot in slots if slot.stratum == "S1"] == [
        *(2, 2), *(4, 4, 4, 4), *(2, 2), *(4, 4, 4, 4)
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("arms", "block_sizes"),
    [(ONE_TO_ONE, (2, 4, 6)), (ONE_TO_ONE, (4,)), (TWO_TO_ONE, (3, 6)), ([("A", 1)], (1, 2))],
)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_complete_block_is_balanced(arms, block_sizes, seed):
    slots = generate(arms=arms, block_sizes=block_sizes, slots=50, seed=seed)
    balance = block_balance(arms, slots)
    complete = [block for block in balance.values() if block.complete]
    assert complete
    assert all(block.balanced for block in complete)
    ratio_sum = sum(ratio for _, ratio in arms)
    for block in complete:
        assert block.counts == {code: ratio * block.block_size // ratio_sum for code, ratio in arms}


def test_only_the_last_block_of_a_stratum_may_be_incomplete():
    slots = generate(block_sizes=(4, 6), slots=25)
    for stratum in SITES:
        blocks = [b for b in block_balance(ONE_TO_ONE, slots).values() if b.stratum == stratum]
        assert all(block.complete for block in blocks[:-1])
        assert sum(sum(block.counts.values()) for block in blocks) == 25
    incomplete = [b for b in block_balance(ONE_TO_ONE, slots).values() if not b.complete]
    assert all(block.balanced is None for block in incomplete)


def test_two_to_one_ratio_allocates_two_thirds_to_the_first_arm():
    slots = generate(arms=TWO_TO_ONE, strata=["ALL"], block_sizes=(3, 6), slots=60)
    assert Counter(slot.arm for slot in slots) == {"TAC": 40, "PRED": 20}


def test_block_sizes_actually_vary():
    sizes = {slot.block_size for slot in generate(block_sizes=(2, 4, 6), slots=100)}
    assert sizes == {2, 4, 6}


def test_numbers_are_unique_and_carry_the_stratum():
    slots = generate(slots=60)
    assert len(slots) == 4 * 60
    assert len({slot.number for slot in slots}) == len(slots)
    assert [slot.number for slot in slots if slot.stratum == "PUMCH"] == list(range(1001, 1061))
    assert [slot.number for slot in slots if slot.stratum == "BJH"] == list(range(4001, 4061))


@pytest.mark.parametrize(
    ("slots_per_stratum", "base"), [(1, 1000), (999, 1000), (1000, 10000), (25000, 100000)]
)
def test_number_base(slots_per_stratum, base):
    assert number_base(slots_per_stratum) == base


def test_large_strata_do_not_collide():
    slots = generate(strata=["S1", "S2"], block_sizes=(2,), slots=1000)
    assert len({slot.number for slot in slots}) == 2000
    assert slots[999].number == 11000
    assert slots[1000].number == 20001


@pytest.mark.parametrize(
    ("arms", "strata", "block_sizes", "slots", "field"),
    [
        (ONE_TO_ONE, SITES, [3], 10, "block_sizes"),
        (ONE_TO_ONE, SITES, [4, 5], 10, "block_sizes"),
        (TWO_TO_ONE, SITES, [4], 10, "block_sizes"),
        (ONE_TO_ONE, SITES, [], 10, "block_sizes"),
        (ONE_TO_ONE, SITES, [0], 10, "block_sizes.0"),
        (ONE_TO_ONE, SITES, [4], 0, "slots_per_stratum"),
        ([], SITES, [4], 10, "arms"),
        ([("A", 1), ("A", 1)], SITES, [4], 10, "arms.1.code"),
        ([("A", 0), ("B", 1)], SITES, [4], 10, "arms.0.ratio"),
        (ONE_TO_ONE, [], [4], 10, "strata"),
        (ONE_TO_ONE, ["S1", "S1"], [4], 10, "strata.1"),
    ],
)
def test_invalid_generation_parameters(arms, strata, block_sizes, slots, field):
    with pytest.raises(DomainError) as raised:
        generate_allocation_list(
            arms, strata, block_sizes=block_sizes, slots_per_stratum=slots, seed=1
        )
    assert raised.value.field == field


def test_block_size_error_names_the_ratio_total():
    with pytest.raises(DomainError) as raised:
        generate(arms=TWO_TO_ONE, block_sizes=(3, 4))
    assert raised.value.message == (
        "block size 4 is not a multiple of the allocation ratio total 3"
    )


# --- Strata -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("site", "factors", "order", "key"),
    [
        ("PUMCH", {}, [], "PUMCH"),
        ("PUMCH", {"relapsed": "yes"}, ["relapsed"], "PUMCH|relapsed=yes"),
        (
            "PKUPH",
            {"plt_below_10": "no", "relapsed": "yes"},
            ["relapsed", "plt_below_10"],
            "PKUPH|relapsed=yes|plt_below_10=no",
        ),
        (" BJH ", {"sex": " F "}, ["sex"], "BJH|sex=F"),
    ],
)
def test_stratum_key(site, factors, order, key):
    assert stratum_key(site, factors, order) == key


@pytest.mark.parametrize(
    ("site", "factors", "order", "field"),
    [
        ("", {}, [], "site_code"),
        ("PU|MCH", {}, [], "site_code"),
        ("PUMCH", {}, ["relapsed"], "factors.relapsed"),
        ("PUMCH", {"relapsed": ""}, ["relapsed"], "factors.relapsed"),
        ("PUMCH", {"relapsed": "a=b"}, ["relapsed"], "factors.relapsed"),
        ("PUMCH", {"relapsed": "yes", "age": "old"}, ["relapsed"], "factors.age"),
    ],
)
def test_stratum_key_errors(site, factors, order, field):
    with pytest.raises(DomainError) as raised:
        stratum_key(site, factors, order)
    assert raised.value.field == field


# --- Uploaded lists ---------------------------------------------------------------------------

ARM_CODES = ["TAC_DAN", "DAN"]
STRATA = ["PUMCH", "BJH"]


def rows(*lines: tuple[str, str, str]) -> list[dict[str, str]]:
    return [{"number": n, "stratum": s, "arm": a} for n, s, a in lines]


def test_valid_upload_becomes_slots():
    uploaded = rows(
        ("1001", "PUMCH", "DAN"), (" 1002 ", "PUMCH", "TAC_DAN"), ("2001", "BJH", "DAN")
    )
    assert validate_allocation_rows(uploaded, arm_codes=ARM_CODES, strata=STRATA) == [
        AllocationSlot(1001, "PUMCH", "DAN", None, None),
        AllocationSlot(1002, "PUMCH", "TAC_DAN", None, None),
        AllocationSlot(2001, "BJH", "DAN", None, None),
    ]


def test_upload_keeps_optional_block_columns():
    uploaded = [{"number": "1", "stratum": "BJH", "arm": "DAN", "block": "3", "block_size": "4"}]
    assert validate_allocation_rows(uploaded, arm_codes=ARM_CODES, strata=STRATA) == [
        AllocationSlot(1, "BJH", "DAN", 3, 4)
    ]


@pytest.mark.parametrize(
    ("uploaded", "problems"),
    [
        (rows(("", "PUMCH", "DAN")), [RowProblem(2, "number", "is blank")]),
        (
            rows(("1001", "PUMCH", "DAN"), ("10x2", "PUMCH", "DAN")),
            [RowProblem(3, "number", "'10x2' is not a positive whole number")],
        ),
        (
            rows(("1.0", "PUMCH", "DAN")),
            [RowProblem(2, "number", "'1.0' is not a positive whole number")],
        ),
        (
            rows(("0", "PUMCH", "DAN")),
            [RowProblem(2, "number", "'0' is not a positive whole number")],
        ),
        (
            rows(("1001", "PUMCH", "DAN"), ("1002", "PUMCH", "DAN"), ("1001", "BJH", "DAN")),
            [RowProblem(4, "number", "1001 duplicates line 2")],
        ),
        (
            rows(("1001", "PUMCH", "PLACEBO")),
            [RowProblem(2, "arm", "unknown arm 'PLACEBO' (expected TAC_DAN, DAN)")],
        ),
        (
            rows(("1001", "XH", "DAN")),
            [RowProblem(2, "stratum", "unknown stratum 'XH' (expected PUMCH, BJH)")],
        ),
        (rows(("1001", "", "DAN")), [RowProblem(2, "stratum", "is blank")]),
        ([{"number": "1001", "stratum": "PUMCH", "arm": None}], [RowProblem(2, "arm", "is blank")]),
        (
            [{"number": "1001", "stratum": "PUMCH"}],
            [RowProblem(1, "arm", "column is missing from the header")],
        ),
        (
            [{"no": "1001", "arm": "DAN"}],
            [
                RowProblem(1, "number", "column is missing from the header"),
                RowProblem(1, "stratum", "column is missing from the header"),
            ],
        ),
        ([], [RowProblem(1, "rows", "the list has no allocation rows")]),
        (
            [{"number": "1", "stratum": "BJH", "arm": "DAN", "block": "first"}],
            [RowProblem(2, "block", "'first' is not a positive whole number")],
        ),
    ],
)
def test_upload_problems_have_line_numbers(uploaded, problems):
    with pytest.raises(AllocationListError) as raised:
        validate_allocation_rows(uploaded, arm_codes=ARM_CODES, strata=STRATA)
    assert list(raised.value.problems) == problems
    assert raised.value.field == "rows"


def test_upload_reports_every_problem_at_once():
    uploaded = rows(
        ("1001", "PUMCH", "DAN"),
        ("abc", "PUMCH", "DAN"),
        ("1003", "MARS", "DAN"),
        ("1001", "PUMCH", "X"),
    )
    with pytest.raises(AllocationListError) as raised:
        validate_allocation_rows(uploaded, arm_codes=ARM_CODES, strata=STRATA)
    assert raised.value.message == (
        "line 3, number: 'abc' is not a positive whole number; "
        "line 4, stratum: unknown stratum 'MARS' (expected PUMCH, BJH); "
        "line 5, arm: unknown arm 'X' (expected TAC_DAN, DAN); "
        "line 5, number: 1001 duplicates line 2"
    )


# --- Balance ----------------------------------------------------------------------------------


def test_block_balance_flags_an_unbalanced_block():
    slots = [
        AllocationSlot(1, "S", "A", 1, 4),
        AllocationSlot(2, "S", "A", 1, 4),
        AllocationSlot(3, "S", "A", 1, 4),
        AllocationSlot(4, "S", "B", 1, 4),
        AllocationSlot(5, "S", "B", 2, 2),
        AllocationSlot(6, "S", "B", None, None),  # no block information: left out
    ]
    balance = block_balance([("A", 1), ("B", 1)], slots)
    assert set(balance) == {("S", 1), ("S", 2)}
    assert balance[("S", 1)].counts == {"A": 3, "B": 1}
    assert (balance[("S", 1)].complete, balance[("S", 1)].balanced) == (True, False)
    assert (balance[("S", 2)].complete, balance[("S", 2)].balanced) == (False, None)

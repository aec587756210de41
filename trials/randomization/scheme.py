"""A study's randomization scheme, read from its protocol file (arms and ratio, block sizes,
stratification factors), and the strata it defines.

A stratum is written as `ecrf.domain.randomization.stratum_key` does: the site code alone for a
site-only stratification (``PKUPH``), else ``SITE|factor=level|factor=level`` in the protocol's
factor order (``PKUPH|prior_tpo=yes``).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass

from ecrf.domain.errors import DomainError
from ecrf.domain.randomization import stratum_key
from ecrf.exceptions import InvalidInput
from trials.models import Study


@dataclass(frozen=True)
class StratificationFactor:
    name: str
    levels: tuple[str, ...]


@dataclass(frozen=True)
class RandomizationScheme:
    arms: tuple[tuple[str, int], ...]  # (arm code, ratio) in protocol order
    block_sizes: tuple[int, ...]
    site_codes: tuple[str, ...]
    factors: tuple[StratificationFactor, ...]

    @property
    def factor_names(self) -> list[str]:
        return [factor.name for factor in self.factors]

    def strata(self) -> list[str]:
        """Every stratum, site by site, factor levels in protocol order."""
        names = self.factor_names
        combinations = list(itertools.product(*(factor.levels for factor in self.factors)))
        return [
            stratum_key(site, dict(zip(names, levels, strict=True)), names)
            for site in self.site_codes
            for levels in combinations
        ]

    def stratum_of(self, site_code: str, factors: Mapping[str, str]) -> str:
        """The patient's stratum; a missing or unknown factor level names `factors.<name>`."""
        for factor in self.factors:
            value = factors.get(factor.name)
            if value is not None and value not in factor.levels:
                raise DomainError(
                    f"factors.{factor.name}",
                    f"unknown level {value!r} (expected {', '.join(factor.levels)})",
                )
        return stratum_key(site_code, dict(factors), self.factor_names)

    def as_json(self) -> dict:
        return {
            "arms": [{"code": code, "ratio": ratio} for code, ratio in self.arms],
            "block_sizes": list(self.block_sizes),
            "strata": ["site", *self.factor_names],
            "factors": [{"name": f.name, "levels": list(f.levels)} for f in self.factors],
        }


def scheme_for(study: Study) -> RandomizationScheme:
    if not study.is_randomized or not study.randomization_scheme:
        raise InvalidInput(
            f"{study.registry_id} is a single-arm study: it has no randomization.", field="study"
        )
    raw = study.randomization_scheme
    return RandomizationScheme(
        # Creation order is the protocol file's order; it is part of what a seed reproduces.
        arms=tuple((arm.code, arm.allocation_ratio) for arm in study.arms.order_by("pk")),
        block_sizes=tuple(raw["block_sizes"]),
        site_codes=tuple(study.sites.order_by("pk").values_list("code", flat=True)),
        factors=tuple(
            StratificationFactor(f["name"], tuple(f["levels"])) for f in raw.get("factors", [])
        ),
    )

"""Clinical scales of the findings app: ranges a value must fall in, and derived codes.

Every limit is a named constant so that tests, validators, model constraints and the
documentation (docs/workflow-dosing-findings.md) quote one source.
"""

from __future__ import annotations

from decimal import Decimal

# WHO bleeding scale: 0 none, 1 petechial, 2 mild blood loss, 3 gross blood loss needing
# transfusion, 4 debilitating (retinal, cerebral) or fatal.
WHO_BLEEDING_MAX = 4

# ITP-BAT / SMOG (Rodeghiero et al., Blood 2013;121:2596): skin (S), visible mucosae (M) and
# organs (O), each the worst grade since the last visit. The paper grades "from 0 to 3 or 4,
# with grade 5 for any fatal bleeding"; its grading table runs to 3 for the skin items
# (petechiae, ecchymoses, haematomas, minor wounds) and to 4 for mucosal and organ bleeding.
# Skin bleeding is never fatal, so only mucosae and organs reach 5.
SMOG_MAXIMA = {"itp_bat_skin": 3, "itp_bat_mucosal": 5, "itp_bat_organ": 5}
SMOG_LETTERS = {"itp_bat_skin": "S", "itp_bat_mucosal": "M", "itp_bat_organ": "O"}

ECOG_MAX = 5

# Plausible adult vital signs; outside these a value is a typing error, not a patient.
SYSTOLIC_RANGE_MMHG = (50, 260)
DIASTOLIC_RANGE_MMHG = (20, 160)
HEART_RATE_RANGE_BPM = (20, 250)
TEMPERATURE_RANGE_C = (Decimal("30.0"), Decimal("44.0"))

ESSPRI_ITEM_MAX = Decimal(10)


def smog_code(skin: int | None, mucosal: int | None, organ: int | None) -> str:
    """ "S2M1O0" when all three domains are graded, "" when none is."""
    grades = (skin, mucosal, organ)
    if all(grade is None for grade in grades):
        return ""
    letters = SMOG_LETTERS.values()
    return "".join(f"{letter}{grade}" for letter, grade in zip(letters, grades, strict=True))

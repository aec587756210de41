"""Reference data shipped inside the product (see NOTICE.md beside each file)."""

from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent

# NCI Common Terminology Criteria for Adverse Events v5.0 (27 Nov 2017), 837 terms: a
# public-domain work of the U.S. government, shipped unchanged so a fresh install can load it.
CTCAE_V5_WORKBOOK = DATA_DIR / "ctcae" / "CTCAE_v5.0_2017-11-27.xlsx"

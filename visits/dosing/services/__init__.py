"""Writes of the dosing app: plans, dose records, adjustments and titration decisions.

Endpoint assessment depends on doses given: every write of a dose record goes through
`visits.dosing.services.records` (create, update, void), including the records an adjustment closes
and opens, so a recomputation can be hooked in one place each.
"""

"""Writes of clinical findings: one module per record type, one function per write.

Each write runs in one transaction, validates the record as a whole (an update is checked on
the merged values) and saves through `ecrf.audit`, so the audit trail shows who and why.
"""

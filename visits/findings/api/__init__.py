"""HTTP API of the findings app: one module per group of records, each a `PatientRecordViewSet`."""

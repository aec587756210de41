"""HTTP API of the dosing app: record resources and the patient-nested dosing views."""

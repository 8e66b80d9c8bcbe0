"""Aggregate reports: figures (metrics), k-anonymity (privacy), charts, CSV and the service."""

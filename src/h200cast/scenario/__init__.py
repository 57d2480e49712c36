"""Scenarios: the parameter schema, layering and overrides, stance paths and the calendar."""

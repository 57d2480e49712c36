"""Estimation: the evidence, the curated history, the statsmodels fits and their backtests."""

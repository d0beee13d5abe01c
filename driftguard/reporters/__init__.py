"""Reporters: pure functions from results to text. ``REPORTERS`` is the explicit registry."""

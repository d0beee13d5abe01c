"""The rule engine and rule families."""

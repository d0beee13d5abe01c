"""``python -m driftguard``."""

from driftguard.cli import main

main()

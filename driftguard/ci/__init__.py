"""What driftguard needs to run as a CI gate: where the repository is (``repo``), and later the git state a
pull request changed (``gitref``) and a deterministic split of models across jobs (``shard``)."""

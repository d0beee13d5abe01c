"""Git facts and CI plumbing for the gate, never the gate itself: where the repository is (``repo``), a
revision's files (``gitref``), which models a change touched (``changed``), who added each approval file and
whether it is committed (``approval_history``), a deterministic split of models across jobs (``shard``), the
shards' reports joined into one (``merge``), and a head check judged against its base revision's
(``baseline``: introduced, existing, resolved)."""

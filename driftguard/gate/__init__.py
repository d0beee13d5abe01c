"""The gate, between the API facade and the parts it wires. ``request`` (the frozen ``CheckRequest`` a run is
asked with), ``check`` (a request to its run), ``pipeline`` (the named steps: select, load approvals, build sides,
run rules, run parity, judge, assemble), ``baseline`` (``--base``) and ``parallel`` (``--jobs``), the wrappers of
the pipeline; ``approve`` (run the check, decide, write through ``approvals.write``), ``golden`` (``golden
record``); ``sides`` (build and merge one side of a model, with its serving path), ``approval_history``
(approvals' commits and authors from git), ``catalog`` (every rule and parity check) and ``scaffold``
(``init``: discover artifacts and write a manifest)."""

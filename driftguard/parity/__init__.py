"""The parity stage: run the model as trained and as deployed on golden inputs and compare the outputs (the
library call is ``driftguard.check_parity``; this package is only the stage).

``request`` (what a run asks: device, executor, attribution, plots), ``golden`` (load, hash, record),
``runners/`` (one module per runner behind ``runners.base.Runner``, heavy imports inside them), ``metrics``
(pure numpy), ``profiles`` (tolerances per precision), ``model_parity`` (one model's parity inputs and runs,
the records the others share), ``stage`` (one model: reference and candidate runs, comparison, findings; the
only module that asks ``attribution`` (which config differences explain a failure), ``concurrency`` (the
candidate under threads and batch sizes) and ``plots``), ``executors`` (local, threads or Ray: models × golden
shards), ``progress`` (the bar), ``codes`` (the DG5xx checks ``explain`` documents) and ``errors``
(``ParityError``).

Importing this package imports nothing heavy: numpy, torch and onnxruntime are imported by the modules that
use them, and only the gate (for ``driftguard parity``, ``check --parity`` and ``golden record``) imports
those. Rules never import parity (an import-linter contract).
"""

"""The parity finding codes (DG5xx): ``checks.Check``s like the rules (a code, a dotted name, a default severity
and a docstring with an **Anti-pattern** and a **Best practice**; ``driftguard explain DG501`` prints it). They
are not rules (parity is a stage that runs models, not a check over configs), so they live here, registered in
``CHECKS`` (group ``driftguard.parity.checks``), and the rule registry never imports them; ``gate.catalog``
lists both as one. This module imports nothing heavy."""

from __future__ import annotations

from driftguard.checks import Check
from driftguard.model import Severity
from driftguard.registry import Registry, subclass_of


class ParityCheck(Check):
    """One kind of parity finding (reported by the parity stage, never by the rules)."""

    stage = "parity"


class OutputWithinProfile(ParityCheck):
    """An output of the deployed model matches the reference within its tolerance profile; the metrics are
    the finding's evidence, so a pass shows how close it was.

    **Anti-pattern**: "parity passed" with no numbers, so nobody sees that cosine fell from 0.99999 to 0.9991
    between two releases.

    **Best practice**: read the evidence (max/mean/median/p99 absolute and relative error, the elementwise rule,
    per-sample cosine, SQNR, argmax agreement) in the JSON report and track it.
    """

    code = "DG500"
    name = "parity.within-profile"
    severity = Severity.INFO


class OutputBeyondTolerance(ParityCheck):
    """A metric of one output is beyond the bound of its tolerance profile (``parity.<output>.<metric>``):
    the deployed model does not give the answers that were evaluated, as far as the profile tolerates.

    The training value is the bound, the deployed value the measurement. Profiles per precision (fp32,
    fp16, bf16, int8) are defaults; the manifest overrides them per model and per output.

    **Anti-pattern**: loosening ``tolerances:`` in the manifest until the build passes: the next, worse
    degradation passes silently too.

    **Best practice**: fix the deployment, or accept the degradation with an approval pinned to the bound you
    accept (``training`` the profile's bound, ``deployed`` the accepted bound): a later, worse measurement is
    beyond that bound and fails again.

    ```yaml
    key: parity.logits.cosine_min
    rule: DG501
    training: 0.9999      # the fp32 profile's bound
    deployed: 0.99        # accepted: cosine_min may fall to 0.99, not below
    ```
    """

    code = "DG501"
    name = "parity.beyond-tolerance"


class NonFiniteOutput(ParityCheck):
    """An output holds NaN or Inf values. Always a failure, whatever the profile: no tolerance makes NaN an
    answer. The deployed value counts the non-finite elements.

    **Anti-pattern**: an FP16 engine that overflows to Inf on long inputs, "passing" because the comparison
    skipped NaN.

    **Best practice**: find the layer that overflows (fp16 range is ±65504) and keep it in fp32, or clamp.
    """

    code = "DG502"
    name = "parity.non-finite"


class OutputMismatch(ParityCheck):
    """The reference and the candidate do not produce comparable outputs: an output only one side produces,
    or two outputs of one name with different shapes. The model's answer has a different form.

    **Anti-pattern**: an export that renamed ``logits`` to ``output_0``, or dropped the batch axis, compared on
    whatever happened to line up.

    **Best practice**: name the outputs (``outputs:`` on the runner) and export with the same names and shapes.
    """

    code = "DG503"
    name = "parity.output-mismatch"


class ConcurrencyInterference(ParityCheck):
    """Run from several threads at once, one sample per call, the candidate's outputs differ from the same
    one-sample calls made one after another by more than it differs from itself when run twice: requests
    interfere (state shared between threads that should be per request). Both runs have the same shapes and
    batch size, so a batch-size effect is never reported here (that is DG506).

    **Anti-pattern**: a module-level cache or a tokenizer object mutated per request, shared by every worker
    thread of the server.

    **Best practice**: keep per-request state per request; make shared objects immutable or thread-local.
    """

    code = "DG504"
    name = "parity.concurrency-interference"


class BatchSizeSensitivity(ParityCheck):
    """Run sequentially at another batch size (1, or one of ``concurrency.batch_sizes``), the candidate's
    outputs differ from its run at the runner's batch size beyond the tolerance: the model's answer depends on
    which other samples share its batch (dynamic quantization computes activation scales per batch; some
    kernels change with the batch shape). No request interferes with another; the verdict measured at one batch
    size simply does not hold at every one. The finding names both batch sizes and the difference (info).

    **Anti-pattern**: validating a dynamically quantized model at batch size 32 and serving it with dynamic
    batching, where a request's answer depends on who else arrived in the same millisecond.

    **Best practice**: measure parity at the batch sizes the server forms (``batch_size:`` on the runner,
    ``concurrency.batch_sizes``), or quantize statically (calibrated scales) so the answer is the batch's own.
    """

    code = "DG506"
    name = "parity.batch-size-sensitivity"
    severity = Severity.INFO


class Nondeterminism(ParityCheck):
    """The candidate run twice on the same inputs, sequentially, gives different outputs (beyond the
    determinism tolerance). Parity numbers then vary from run to run, so the finding is a warning.

    **Anti-pattern**: non-deterministic kernels (atomics in reductions) left on while comparing against a
    recorded reference.

    **Best practice**: enable deterministic algorithms for parity runs, or widen the profile knowingly.
    """

    code = "DG505"
    name = "parity.nondeterminism"
    severity = Severity.WARNING


class NotExercised(ParityCheck):
    """Keys that differ between the sides but that no parity runner applies: parity ran, but it did not run
    these differences, so a parity pass says nothing about them.

    **Anti-pattern**: reading "parity passed" as "the top_p change is harmless" when the runner never sampled.

    **Best practice**: use a runner that applies the key (a callable runner declares ``applies:``), or judge
    the key on its own (its DG101 finding and approval).
    """

    code = "DG510"
    name = "parity.not-exercised"
    severity = Severity.INFO


#: The parity checks, code -> ``"module:Class"`` (entry point group ``driftguard.parity.checks``).
CHECKS: Registry[type[ParityCheck]] = Registry("driftguard.parity.checks", {
    "DG500": "driftguard.parity.codes:OutputWithinProfile",
    "DG501": "driftguard.parity.codes:OutputBeyondTolerance",
    "DG502": "driftguard.parity.codes:NonFiniteOutput",
    "DG503": "driftguard.parity.codes:OutputMismatch",
    "DG504": "driftguard.parity.codes:ConcurrencyInterference",
    "DG505": "driftguard.parity.codes:Nondeterminism",
    "DG506": "driftguard.parity.codes:BatchSizeSensitivity",
    "DG510": "driftguard.parity.codes:NotExercised",
}, subclass_of(ParityCheck))

"""The rule engine and rule families.

``RULES`` is the registry of rules (``registry.Registry``): code -> ``"module:Class"`` for the built-ins,
imported when first loaded, plus third-party rules from the ``driftguard.rules`` entry point group
(``DG901 = "package.module:RuleClass"``, the entry point named by the rule's code; a built-in code wins a
clash). Nothing registers itself on import. Families: DG1xx drift between sides (``drift``), DG2xx
consistency within a side (``consistency``), DG21x Triton config vs ONNX graph (``consistency_io``), DG3xx
policy on values (``policy``; DG304 ``policy_fields``), DG105 serving precision (``precision_serving``), DG106
lengths across sides (``lengths``), DG107 the base an add-on was trained on vs the served model
(``identity``), DG108 output-changing request parameters set on one side only
(``output_params``), DG401 weights (``weights``); ``base`` (``Rule``, ``Side``, ``RuleContext``),
``comparison`` (two sides by key, with tolerances), ``decoding`` (the decoding mode) and ``engine``
(``run_rules``). Adding a rule is its class (with its ``explain`` doc), one line here and its test cases.
"""

from __future__ import annotations

from driftguard.registry import PluginLoadError, Registry
from driftguard.rules.base import Rule


def _rule_class(obj: object) -> type[Rule]:
    if not (isinstance(obj, type) and issubclass(obj, Rule) and obj.code):
        raise TypeError("a Rule with a code")
    return obj


RULES: Registry[type[Rule]] = Registry("driftguard.rules", {
    "DG101": "driftguard.rules.drift:ValueDrift",
    "DG102": "driftguard.rules.drift:PrecisionDrift",
    "DG103": "driftguard.rules.drift:OneSidedKey",
    "DG104": "driftguard.rules.drift:DecodingDrift",
    "DG105": "driftguard.rules.precision_serving:ServingPrecision",
    "DG106": "driftguard.rules.lengths:LengthDrift",
    "DG107": "driftguard.rules.identity:BaseModelIdentity",
    "DG108": "driftguard.rules.output_params:OutputParameter",
    "DG201": "driftguard.rules.consistency:EosTokenConsistency",
    "DG202": "driftguard.rules.consistency:MaxLengthConsistency",
    "DG203": "driftguard.rules.consistency:GenerationLengthConsistency",
    "DG204": "driftguard.rules.consistency:SideContradiction",
    "DG210": "driftguard.rules.consistency_io:TritonOnnxNames",
    "DG211": "driftguard.rules.consistency_io:TritonOnnxDtype",
    "DG212": "driftguard.rules.consistency_io:TritonOnnxBatchDim",
    "DG213": "driftguard.rules.consistency_io:TritonOnnxDims",
    "DG214": "driftguard.rules.consistency_io:TritonOnnxBackend",
    "DG215": "driftguard.rules.consistency_io:TritonOnnxPrecision",
    "DG216": "driftguard.rules.consistency_io:OnnxTokenizerInputs",
    "DG217": "driftguard.rules.consistency_io:OnnxMaxLength",
    "DG301": "driftguard.rules.policy:SamplingWithoutDoSample",
    "DG302": "driftguard.rules.policy:GreedyBySamplingLimits",
    "DG303": "driftguard.rules.policy:ValueRange",
    "DG304": "driftguard.rules.policy_fields:IgnoredRequestField",
    "DG401": "driftguard.rules.weights:WeightsCheck",
}, _rule_class)


def load_rules() -> dict[str, type[Rule]]:
    """Every rule of this installation, code -> class: the built-ins, then entry points. Raises
    ``PluginLoadError`` for an entry point that cannot be loaded, is not a Rule, or is named other than its
    rule's code."""
    out = dict(RULES.items())
    for code, cls in out.items():
        if cls.code != code:
            raise PluginLoadError(f"driftguard.rules '{code}' is the rule {cls.code}: name the entry point by the "
                                  "rule's code")
    return out


__all__ = ["RULES", "PluginLoadError", "Rule", "load_rules"]

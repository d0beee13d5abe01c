"""The manifest ``driftguard.yaml``: which models to check, each with a training and a deployment side, the
rule options, where the approvals live and who may approve.

Pydantic models with unknown fields forbidden; ``load`` reports every problem on one line as ``FILE:LINE``
(``readers.yaml_doc`` reads the file bounded and maps pydantic's locations back to YAML lines).
``Manifest.model_json_schema()`` is the published schema (``driftguard schema manifest``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from driftguard.errors import DriftguardError, ManifestError, did_you_mean
from driftguard.readers import files, yaml_doc

if TYPE_CHECKING:
    from driftguard.parity.runners.base import RunnerSettings
    from driftguard.readers.limits import Limits

DEFAULT_NAME = "driftguard.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Artifact(_Strict):
    """One file or folder of a side. ``path`` is relative to the manifest's folder; ``kind`` names the
    extractor when the file name does not tell (``vllm``, ``tgi``, ``hf-generation``...)."""

    path: str = Field(min_length=1, description="file or folder, relative to the manifest's folder")
    kind: str | None = Field(default=None,
                             description="extractor kind; detected from the name and content when omitted")
    set: dict[str, str] = Field(default_factory=dict,
                                description="values for template placeholders in this artifact")
    call: str | None = Field(default=None, min_length=1,
                             description="python kind: the call whose values are meant where call sites disagree "
                                         "(SamplingParams, vllm.SamplingParams, chat.completions.create)")
    line: int | None = Field(default=None, ge=1,
                             description="python kind: the line of the call whose values are meant where call "
                                         "sites disagree")

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        """``- vllm:deployment/params.yaml`` or ``path: vllm:deployment/params.yaml``: the ``KIND:PATH`` the
        CLI takes, read as ``path`` and ``kind`` when the head is a registered kind (as the CLI reads it) and
        no ``kind:`` is written; a bare string is a ``path``."""
        if isinstance(value, str):
            value = {"path": value}
        if isinstance(value, dict) and isinstance(value.get("path"), str) and value.get("kind") is None:
            from driftguard.extractors import EXTRACTORS

            head, sep, tail = value["path"].partition(":")
            if sep and tail and head in EXTRACTORS:
                value = {**value, "path": tail, "kind": head}
        return value


class Tolerance(_Strict):
    """Numeric slack for keys matching a glob."""

    key: str = Field(description="canonical key or glob (generation.temperature, io.*.shape)")
    abs: float = Field(default=0.0, ge=0)
    rel: float = Field(default=0.0, ge=0)


class Rules(_Strict):
    """Which rules run and how."""

    select: list[str] | None = Field(default=None, description="run only these codes or globs: rules and the parity "
                                                                  "stage's DG5xx (default: every rule)")
    enable: list[str] = Field(default_factory=list, description="opt-in rules to run as well")
    ignore_keys: list[str] = Field(default_factory=list, validation_alias=AliasChoices("ignore_keys", "ignore"),
                                   description="canonical keys (globs) never compared (`ignore`, the older "
                                               "spelling, is read too); select and enable name rule codes")
    tolerances: list[Tolerance] = Field(default_factory=list)
    severity: dict[str, Literal["error", "warning", "info", "off"]] = Field(
        default_factory=dict,
        description="rule or parity (DG5xx) code or glob -> severity override; off drops it")
    options: dict[str, dict[str, Any]] = Field(default_factory=dict, description="rule code -> its options")

    @field_validator("severity", mode="before")
    @classmethod
    def _off(cls, value: Any) -> Any:
        """YAML 1.1 reads an unquoted ``off`` as false: that is the ``off`` the README documents."""
        if isinstance(value, dict):
            return {k: "off" if v is False else v for k, v in value.items()}
        return value

    def merged(self, other: Rules | None) -> Rules:
        """These manifest-wide options with a model's own on top (lists concatenated, model first)."""
        if other is None:
            return self
        return Rules(
            select=other.select if other.select is not None else self.select,
            enable=[*other.enable, *self.enable],
            ignore_keys=[*other.ignore_keys, *self.ignore_keys],
            tolerances=[*other.tolerances, *self.tolerances],
            severity={**self.severity, **other.severity},
            options={**self.options, **other.options},
        )


#: Parity metrics a bound may be set on (driftguard.parity.profiles.METRICS; a test keeps the two equal).
ParityMetric = Literal["max_abs", "mean_abs", "median_abs", "p99_abs", "max_rel", "mean_rel", "median_rel",
                       "p99_rel", "elementwise_fraction", "cosine", "cosine_min", "cosine_mean", "sqnr_db",
                       "argmax_agreement", "topk_overlap", "exact_match", "token_agreement"]


class ParityRunner(BaseModel):
    """How one side's model is run for parity (``driftguard parity``): ``runner`` names a registered runner
    (``parity.runners.RUNNERS``) and the other fields are that runner's settings, validated by the runner's own
    model (its ``Settings``) when the manifest loads; the published schema lists each runner's."""

    model_config = ConfigDict(extra="allow", frozen=True)

    runner: str = Field(description="which runner runs the model")

    @field_validator("runner")
    @classmethod
    def _registered(cls, value: str) -> str:
        from driftguard.parity.runners import RUNNERS

        names = RUNNERS.names()
        if value not in names:
            raise ValueError("Input should be " + ", ".join(f"'{n}'" for n in names[:-1]) + f" or '{names[-1]}'")
        return value

    def settings(self) -> RunnerSettings:
        """The runner's settings, validated by its ``Settings`` model (pydantic ``ValidationError`` when they
        are wrong; ``load`` has checked a manifest read from a file)."""
        from driftguard.parity.runners import settings_model

        return settings_model(self.runner).model_validate(self.model_extra or {})

    def setting(self, name: str) -> Any:
        """One setting as written (None when unset): for labels and recordings, which name the artifact."""
        return (self.model_extra or {}).get(name)


class ParityOutput(_Strict):
    """One output's kind and tolerance overrides."""

    kind: Literal["tensor", "logits", "embedding", "sequence"] | None = Field(
        default=None, description="logits adds argmax/top-k, sequence exact match/token agreement "
                                  "(default: logits when the name says so, else tensor)")
    tolerances: dict[ParityMetric, float | None] = Field(default_factory=dict,
                                                         description="metric -> bound (null: not judged)")
    atol: float | None = Field(default=None, ge=0)
    rtol: float | None = Field(default=None, ge=0)


class ParityConcurrency(_Strict):
    """Concurrency parity: the candidate from several threads (one sample per call) and at several batch sizes."""

    threads: int = Field(default=4, ge=2)
    batch_sizes: list[Annotated[int, Field(ge=1)]] = Field(
        default_factory=lambda: [1], description="batch sizes besides the runner's (each at least 1)")
    atol: float | None = Field(default=None, ge=0, description="tolerance of every concurrency comparison "
                               "(absolute; default: the atol of the deployed precision's profile, fp32 1e-5)")


class Parity(_Strict):
    """Numerical parity for one model: golden inputs, the reference (training artifact, training config) and
    the candidate (deployed artifact, deployment config), and the tolerance profile."""

    golden: str = Field(description="golden inputs: .npz, .jsonl, or a folder of them, relative to the manifest")
    reference: ParityRunner = Field(description="runs the training-side artifact under the training config")
    candidate: ParityRunner = Field(description="runs the deployed artifact under the deployment config")
    profile: Literal["fp32", "fp16", "bf16", "int8"] | None = Field(
        default=None, description="tolerance profile (default: from the deployment's precision)")
    tolerances: dict[ParityMetric, float | None] = Field(default_factory=dict,
                                                         description="metric -> bound for every output")
    atol: float | None = Field(default=None, ge=0)
    rtol: float | None = Field(default=None, ge=0)
    outputs: dict[str, ParityOutput] = Field(default_factory=dict, description="per-output kind and overrides")
    timeout_s: float = Field(default=300.0, gt=0, description="longest one runner call (set-up or batch) may take")
    attribution: bool = Field(default=True, description="on failure, rerun to rank the config keys that explain it")
    concurrency: ParityConcurrency | None = None


class ModelSpec(_Strict):
    """One model: the artifacts of each side and optional rule options of its own."""

    training: list[Artifact] = Field(min_length=1, description="training-side artifacts, in precedence order")
    deployment: list[Artifact] = Field(min_length=1, description="deployment-side artifacts")
    rules: Rules | None = None
    description: str | None = None
    parity: Parity | None = Field(default=None, description="numerical parity (driftguard parity)")


class ApprovalPolicy(_Strict):
    """How approvals are judged."""

    max_horizon_days: int = Field(
        default=365, ge=1, description="longest an approval may run (expires - approved_on, and expires - today)")
    warn_expiring_days: int = Field(default=30, ge=0, description="warn about approvals expiring within this many days")
    fail_on_stale: bool = Field(default=False, description="an approval that matches nothing fails the check")
    separate_approver: bool = Field(
        default=False,
        description="an approval passes a finding only when the commit that last changed it has another author "
                    "than the commits that last changed each line the finding rests on, on both sides (git blame; "
                    "for a default, its file's last change); reads git")


class Manifest(_Strict):
    """``driftguard.yaml``."""

    version: Literal[1] = 1
    models: dict[str, ModelSpec] = Field(min_length=1)
    rules: Rules = Field(default=Rules(), description="options for every model")
    approvals: str = Field(default="approvals", description="folder of approval files, relative to the manifest")
    approvers: list[str] = Field(default_factory=list,
                                 description="who may approve (approved_by); empty: anyone")
    approval_policy: ApprovalPolicy = ApprovalPolicy()
    limits: dict[str, int | str] = Field(
        default_factory=dict,
        description="raise (or lower) a reader limit: name -> positive integer (K, M, G suffixes allowed); "
                    "names: driftguard.readers.limits.Limits (file_bytes, pickle_bytes, objects, depth, ...)")

    _base: Path = PrivateAttr(default_factory=lambda: Path("."))
    _path: str = PrivateAttr(default=DEFAULT_NAME)
    #: (model or None for the manifest-wide block, rule code) -> line of ``rules.options.<code>``
    _option_lines: dict[tuple[str | None, str], int] = PrivateAttr(default_factory=dict)
    #: model -> (line of its name, its node) in the file, for ``artifact_at`` (set by ``load``; empty when built
    #: in code). Lines are looked up when an error needs one: a manifest of thousands of models is not walked
    #: entry by entry up front.
    _model_nodes: dict[str, tuple[int, yaml_doc.Span | int]] = PrivateAttr(default_factory=dict)

    def artifact_at(self, model: str, side: str, index: int, key: str) -> tuple[str, int | None]:
        """``(dotted location, manifest line)`` of key ``path``, ``kind`` or ``set`` of a model's artifact entry,
        for an error about it: the entry's own line when the key is not written, None when the manifest was
        built in code."""
        where = yaml_doc.dotted(("models", model, side, index, key))
        found = self._model_nodes.get(model)
        if found is None:
            return where, None
        node = found[1]
        line = None
        if key in getattr(self.models[model], side)[index].model_fields_set:
            line = yaml_doc.line_in(node, (side, index, key), key=True)
        return where, line if line is not None else yaml_doc.line_in(node, (side, index))

    def for_models(self, names: Sequence[str]) -> Manifest:
        """This manifest cut down to ``names`` (their lines kept): what a worker process is sent."""
        copy = self.model_copy(update={"models": {n: self.models[n] for n in names}})
        copy._model_nodes = {n: self._model_nodes[n] for n in names if n in self._model_nodes}
        return copy

    def check_rule_options(self) -> None:
        """Every ``rules.options.<code>`` (manifest-wide and each model's) names a registered rule and gives
        options its ``Options`` model accepts; ManifestError with the manifest's file and the option's line
        otherwise. ``load`` calls it; so does the check of a manifest built in code."""
        blocks = [(None, self.rules), *((name, spec.rules) for name, spec in self.models.items())]
        if not any(block is not None and block.options for _, block in blocks):
            return
        from driftguard.rules import load_rules

        rules = load_rules()
        for model, block in blocks:
            if block is None:
                continue
            where = "rules.options" if model is None else f"models.{model}.rules.options"
            for code, raw in block.options.items():
                line = self.option_line(model, code)
                cls = rules.get(code)
                if cls is None:
                    raise ManifestError(f"{where}.{code}: no rule {code} takes options (rules: `driftguard explain`)",
                                        self.path, line)
                if cls.Options is None:
                    if raw in (None, {}):
                        continue
                    raise ManifestError(f"{where}.{code}: this rule takes no options", self.path, line)
                try:
                    cls.Options.model_validate(raw)
                except ValidationError as exc:
                    first = exc.errors(include_url=False)[0]
                    at = ".".join(str(p) for p in first["loc"])
                    msg = first["msg"].removeprefix("Value error, ")
                    raise ManifestError(f"{where}.{code}: {at + ': ' if at else ''}{msg}", self.path, line) from None

    def option_line(self, model: str | None, code: str) -> int | None:
        """The line of ``rules.options.<code>`` (a model's own block when ``model``), None when unknown."""
        return self._option_lines.get((model, code))

    @field_validator("models")
    @classmethod
    def _names(cls, v: dict[str, ModelSpec]) -> dict[str, ModelSpec]:
        for name in v:
            if not name or name != name.strip() or "/" in name:
                raise ValueError(f"invalid model name '{name}'")
        return v

    @field_validator("limits")
    @classmethod
    def _limits(cls, v: dict[str, int | str]) -> dict[str, int | str]:
        from driftguard.errors import UsageError
        from driftguard.readers.limits import DEFAULT

        try:
            DEFAULT.with_overrides(v)
        except UsageError as exc:
            raise ValueError(exc.message) from None
        return v

    def effective_limits(self) -> Limits:
        """The built-in reader limits with this manifest's ``limits:`` applied."""
        from driftguard.readers.limits import DEFAULT

        return DEFAULT.with_overrides(self.limits)

    @property
    def base(self) -> Path:
        """The folder artifact and approval paths are relative to (the manifest's folder)."""
        return self._base

    @property
    def path(self) -> str:
        """The manifest file as given (for messages)."""
        return self._path

    def with_base(self, base: Path, path: str | None = None) -> Manifest:
        """This manifest with artifact paths resolved against ``base``."""
        self._base = base
        if path is not None:
            self._path = path
        return self

    def rules_for(self, model: str) -> Rules:
        return self.rules.merged(self.models[model].rules)


def load(path: str | Path, limits: Limits | None = None) -> Manifest:
    """Read and validate a manifest (within ``limits``, default the built-in ones). Raises ``ManifestError``
    (or ``LimitError``) with ``FILE:LINE`` for every problem; the approvals folder must lie inside the
    manifest's folder (symlinks resolved)."""
    from driftguard.readers.limits import DEFAULT

    p = Path(path)
    if files.is_dir(p):
        p = p / DEFAULT_NAME
    doc = yaml_doc.load(p, ManifestError, limits or DEFAULT, what="manifest")
    if not isinstance(doc.data, dict):
        raise ManifestError("expected a mapping with 'models:'", str(p), yaml_doc.line_of(doc, ()))
    try:
        manifest = Manifest.model_validate(doc.data)
    except ValidationError as exc:
        yaml_doc.raise_validation(doc, exc, ManifestError, schema=Manifest)
        raise  # unreachable: raise_validation always raises
    try:
        files.confine(p.parent / manifest.approvals, p.parent, "approvals folder", origin=str(p),
                      line=yaml_doc.line_of(doc, ("approvals",)))
    except DriftguardError as exc:
        raise ManifestError(exc.message, exc.path, exc.line) from None
    for name, spec in manifest.models.items():  # each runner's settings, by the runner's own model
        for role in ("reference", "candidate") if spec.parity is not None else ():
            try:
                getattr(spec.parity, role).settings()
            except ValidationError as exc:
                yaml_doc.raise_validation(doc, exc, ManifestError, prefix=("models", name, "parity", role))
    manifest._model_nodes = yaml_doc.members(yaml_doc.members(doc.node).get("models", (0, None))[1])
    for model, block in ((None, manifest.rules), *((n, s.rules) for n, s in manifest.models.items())):
        if block is not None:
            loc: tuple[str, ...] = ("rules", "options") if model is None else ("models", model, "rules", "options")
            for code in block.options:
                line = yaml_doc.line_of(doc, (*loc, code), key=True)
                if line is not None:
                    manifest._option_lines[(model, code)] = line
    manifest.with_base(p.parent, str(p)).check_rule_options()
    _check_rule_codes(doc, manifest)
    _check_key_globs(doc, manifest)
    return manifest


def _check_key_globs(doc: yaml_doc.YamlDoc, manifest: Manifest) -> None:
    """Every ``ignore_keys`` glob and tolerance ``key`` could name a key: a key of the vocabulary (``keys.py``,
    ``{name}`` standing for any output or input name), or one under a format's namespace (``vllm.*``) or
    parity's. A typo (``generation.temprature``) would otherwise ignore nothing, silently: ManifestError at its
    line, with the closest key."""
    from fnmatch import fnmatchcase

    from driftguard import keys

    patterns = keys.patterns()
    namespaces: list[str] | None = None  # loaded only for a glob the vocabulary does not cover
    for model, block in ((None, manifest.rules), *((n, s.rules) for n, s in manifest.models.items())):
        if block is None:
            continue
        loc: tuple[str, ...] = ("rules",) if model is None else ("models", model, "rules")
        globs = [*((("ignore_keys", i), g) for i, g in enumerate(block.ignore_keys)),
                 *((("tolerances", i, "key"), t.key) for i, t in enumerate(block.tolerances))]
        for where, glob in globs:
            probe = glob.replace("*", "x").replace("?", "x")
            if keys.spec_for(probe) is not None or any(fnmatchcase(p.replace("{name}", "x"), glob) for p in patterns):
                continue
            if namespaces is None:
                from driftguard.extractors import format_namespaces

                namespaces = ["parity", *format_namespaces()]
            if glob.split(".", 1)[0] in namespaces or glob == "*":
                continue
            path: tuple[int | str, ...] = (*loc, *where)
            exact = [p for p in patterns if "{name}" not in p]
            raise ManifestError(f"{yaml_doc.dotted(path)}: '{glob}' names no key (the README's key vocabulary, "
                                f"or a format's namespace such as vllm.*){did_you_mean(glob, exact, cutoff=0.85)}",
                                str(manifest.path),
                                yaml_doc.line_of(doc, path))


def _check_rule_codes(doc: yaml_doc.YamlDoc, manifest: Manifest) -> None:
    """Every code or glob in ``select``, ``enable`` and ``severity`` (manifest-wide and each model's) names a
    registered rule or parity check: ManifestError at that entry's line, with the closest code, instead of
    the check's later "unknown rule" that names no line."""
    from driftguard.parity.codes import CHECKS
    from driftguard.rules import RULES
    from driftguard.rules.engine import pattern_hits

    codes = [*RULES.names(), *CHECKS.names()]
    for model, block in ((None, manifest.rules), *((n, s.rules) for n, s in manifest.models.items())):
        if block is None:
            continue
        loc: tuple[str, ...] = ("rules",) if model is None else ("models", model, "rules")
        entries: list[tuple[tuple[str, int | str], str]] = [
            *((("select", i), p) for i, p in enumerate(block.select or ())),
            *((("enable", i), p) for i, p in enumerate(block.enable)),
            *((("severity", p), p) for p in block.severity)]
        for where, pattern in entries:
            if not pattern_hits(pattern, codes):
                path: tuple[int | str, ...] = (*loc, *where)
                raise ManifestError(f"{yaml_doc.dotted(path)}: no rule or parity check '{pattern}'; known: "
                                    f"{', '.join(codes)}{did_you_mean(pattern.strip().upper(), codes)}",
                                    str(manifest.path), yaml_doc.line_of(doc, path, key=where[0] == "severity"))


def schema() -> dict[str, Any]:
    """The manifest's JSON Schema, with the plug-ins' own models, so editors complete them: a parity runner's
    fields from each registered runner's settings model (one alternative per runner, told apart by ``runner``),
    and ``rules.options.<code>`` from each rule's options model."""
    from driftguard.parity.runners import RUNNERS, settings_model

    out = Manifest.model_json_schema()
    defs = out["$defs"]
    runner = defs["ParityRunner"]
    alternatives = []
    for name in RUNNERS.names():
        model = settings_model(name)
        sub = model.model_json_schema(ref_template="#/$defs/{model}")
        defs.update(sub.pop("$defs", {}))
        sub["properties"] = {"runner": {"const": name, "description": runner["properties"]["runner"]["description"]},
                             **sub["properties"]}
        sub["required"] = ["runner", *sub.get("required", ())]
        defs[model.__name__] = sub
        alternatives.append({"$ref": f"#/$defs/{model.__name__}"})
    defs["ParityRunner"] = {"description": runner["description"], "title": runner["title"], "type": "object",
                            "oneOf": alternatives}
    for side in ("training", "deployment"):  # an entry may be the KIND:PATH shorthand (Artifact._shorthand)
        prop = defs["ModelSpec"]["properties"][side]
        prop["items"] = {"anyOf": [prop["items"], {"type": "string", "minLength": 1,
                                                   "description": "PATH or KIND:PATH, as the CLI takes them"}]}
    from driftguard.rules import load_rules

    options = defs["Rules"]["properties"]["options"]
    for code, cls in sorted(load_rules().items()):
        if cls.Options is not None:
            sub = cls.Options.model_json_schema(ref_template="#/$defs/{model}")
            defs.update(sub.pop("$defs", {}))
            defs[cls.Options.__name__] = sub
            options.setdefault("properties", {})[code] = {"$ref": f"#/$defs/{cls.Options.__name__}"}
    out["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    out["$id"] = "https://driftguard.dev/schemas/manifest.json"
    return out

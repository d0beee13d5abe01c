"""Build driftguard/extractors/finetune_fields.py: every field name LLaMA-Factory's and axolotl's config parsers
accept, read from their sources (never imported), so the extractors can report a field the framework rejects
(LLaMA-Factory's HfArgumentParser) or silently drops (axolotl's pydantic models) as DG304.

    python scripts/gen_finetune_fields.py LLAMAFACTORY_GIT AXOLOTL_GIT TRANSFORMERS_WHEEL

LLAMAFACTORY_GIT and AXOLOTL_GIT are git directories (bare clones, as the ``fetch`` tool leaves them) of
hiyouga/LLaMA-Factory and axolotl-ai-cloud/axolotl; their HEAD commit is recorded. LLaMA-Factory's
``TrainingArguments`` extends transformers' ``Seq2SeqTrainingArguments``: TRANSFORMERS_WHEEL is the official
wheel of the newest transformers LLaMA-Factory's pyproject.toml allows (``pip download transformers==5.8.0
--no-deps``), whose name is recorded. Every field is read with ``ast`` (dataclass fields without ``init=False``,
as ``HfArgumentParser`` takes them; pydantic fields and their aliases), never imported: run at development time
only.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "driftguard" / "extractors" / "finetune_fields.py"

#: LLaMA-Factory's parser groups (src/llamafactory/hparams/parser.py: _TRAIN_ARGS, _INFER_ARGS, _EVAL_ARGS).
LF_CLASSES = ("ModelArguments", "DataArguments", "TrainingArguments", "FinetuningArguments", "GeneratingArguments",
              "EvaluationArguments", "_KTransformersRuntimeArguments")


def _git(repo: str, *args: str) -> str:
    return subprocess.run(["git", "--git-dir", repo, *args], check=True, capture_output=True, text=True).stdout


def _classes(repo: str, paths: list[str]) -> dict[str, ast.ClassDef]:
    out: dict[str, ast.ClassDef] = {}
    for path in paths:
        for node in ast.parse(_git(repo, "show", f"HEAD:{path}")).body:
            if isinstance(node, ast.ClassDef):
                out.setdefault(node.name, node)
    return out


def _keyword(call: ast.expr, name: str) -> ast.expr | None:
    if isinstance(call, ast.Call):
        for kw in call.keywords:
            if kw.arg == name:
                return kw.value
    return None


def _own_fields(cls: ast.ClassDef, aliases: bool) -> list[str]:
    """Annotated class attributes a parser accepts: not ``init=False`` (dataclasses), not ClassVar; with
    ``aliases`` a pydantic ``Field(alias=...)`` name too."""
    names: list[str] = []
    for stmt in cls.body:
        if not (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)):
            continue
        if "ClassVar" in ast.unparse(stmt.annotation):
            continue
        init = _keyword(stmt.value, "init") if stmt.value is not None else None
        if isinstance(init, ast.Constant) and init.value is False:
            continue
        names.append(stmt.target.id)
        alias = _keyword(stmt.value, "alias") if aliases and stmt.value is not None else None
        if isinstance(alias, ast.Constant) and isinstance(alias.value, str):
            names.append(alias.value)
    return names


def _fields(name: str, classes: dict[str, ast.ClassDef], aliases: bool = False) -> list[str]:
    """Fields of ``name`` and of every base class defined in ``classes`` (others are skipped)."""
    cls = classes[name]
    out: list[str] = []
    for base in cls.bases:
        if isinstance(base, ast.Name) and base.id in classes:
            out += _fields(base.id, classes, aliases)
    return out + _own_fields(cls, aliases)


def _seq2seq(wheel: str) -> tuple[str, list[str]]:
    """Seq2SeqTrainingArguments' fields (and its base TrainingArguments') from the wheel's source."""
    classes: dict[str, ast.ClassDef] = {}
    with zipfile.ZipFile(wheel) as zf:
        for member in ("transformers/training_args.py", "transformers/training_args_seq2seq.py"):
            for node in ast.parse(zf.read(member)).body:
                if isinstance(node, ast.ClassDef):
                    classes.setdefault(node.name, node)
    version = Path(wheel).name.split("-")[1]
    return (f"transformers=={version} (wheel) transformers/training_args_seq2seq.py Seq2SeqTrainingArguments",
            _fields("Seq2SeqTrainingArguments", classes))


def _plugin_classes(repo: str) -> list[tuple[str, str]]:
    """(package folder, class) of every bundled axolotl integration's ``get_input_args`` class (the class may
    be defined in any module of the package and re-exported)."""
    out = []
    for module in _git(repo, "ls-tree", "-r", "--name-only", "HEAD", "src/axolotl/integrations").split():
        parts = module.split("/")
        if not module.endswith(".py") or len(parts) < 5:
            continue
        for node in ast.walk(ast.parse(_git(repo, "show", f"HEAD:{module}"))):
            if isinstance(node, ast.FunctionDef) and node.name == "get_input_args":
                for ret in ast.walk(node):
                    if isinstance(ret, ast.Return) and isinstance(ret.value, ast.Constant) \
                            and isinstance(ret.value.value, str):
                        cls = ret.value.value.rpartition(".")[2]
                        out.append(("/".join(parts[:4]) + "/", cls))
    return sorted(set(out))


def _tuple(name: str, values: list[str]) -> str:
    body = textwrap.fill(", ".join(f'"{v}"' for v in sorted(set(values))), 112, initial_indent="    ",
                         subsequent_indent="    ", break_long_words=False, break_on_hyphens=False)
    return f"{name}: frozenset[str] = frozenset({{\n{body},\n}})\n"


def render(lf_repo: str, axo_repo: str, wheel: str) -> str:
    lf_commit = _git(lf_repo, "rev-parse", "HEAD").strip()
    axo_commit = _git(axo_repo, "rev-parse", "HEAD").strip()
    lf_paths = [p for p in _git(lf_repo, "ls-tree", "--name-only", "HEAD", "src/llamafactory/hparams/").split()
                if p.endswith(".py")]
    lf = _classes(lf_repo, lf_paths)
    lf_names = sorted({f for c in LF_CLASSES for f in _fields(c, lf)})
    tf_source, tf_names = _seq2seq(wheel)
    schema_paths = [p for p in _git(axo_repo, "ls-tree", "-r", "--name-only", "HEAD", "src/axolotl/utils/schemas/")
                    .split() if p.endswith(".py")]
    axo = _classes(axo_repo, schema_paths)
    axo_names = _fields("AxolotlInputConfig", axo, aliases=True)
    plugins = _plugin_classes(axo_repo)
    plugin_names: list[str] = []
    for folder, cls in plugins:
        modules = [p for p in _git(axo_repo, "ls-tree", "-r", "--name-only", "HEAD", folder).split()
                   if p.endswith(".py")]
        plugin_names += _fields(cls, _classes(axo_repo, modules), aliases=True)
    return "".join([
        '"""Field names the fine-tuning frameworks\' config parsers accept (generated by\n'
        "scripts/gen_finetune_fields.py: do not edit). A field outside these is one the framework rejects\n"
        "(LLaMA-Factory) or drops (axolotl), which the extractors report as DG304.\n"
        '"""\n\n',
        f'LLAMAFACTORY_SOURCE = "hiyouga/LLaMA-Factory@{lf_commit[:12]} src/llamafactory/hparams/*.py"\n',
        f'SEQ2SEQ_SOURCE = "{tf_source}"\n',
        f'AXOLOTL_SOURCE = "axolotl-ai-cloud/axolotl@{axo_commit[:12]} src/axolotl/utils/schemas/*.py"\n',
        f'AXOLOTL_PLUGINS_SOURCE = "axolotl-ai-cloud/axolotl@{axo_commit[:12]} src/axolotl/integrations/*/"\n\n',
        "#: LLaMA-Factory's own argument dataclasses, every parser group of parser.py (train, chat/api/export,\n"
        "#: eval):\n",
        textwrap.fill(", ".join(LF_CLASSES) + ".", 116, initial_indent="#: ", subsequent_indent="#: ") + "\n",
        _tuple("LLAMAFACTORY_FIELDS", lf_names), "\n",
        "#: transformers' Seq2SeqTrainingArguments, which LLaMA-Factory's TrainingArguments extends.\n",
        _tuple("SEQ2SEQ_FIELDS", tf_names), "\n",
        "#: axolotl's AxolotlInputConfig and its bases (pydantic fields: names and aliases).\n",
        _tuple("AXOLOTL_FIELDS", axo_names), "\n",
        "#: The input args of axolotl's bundled integrations (their get_input_args classes), accepted when the\n"
        "#: config lists the plugin.\n",
        _tuple("AXOLOTL_PLUGIN_FIELDS", plugin_names),
    ])


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    OUT.write_text(render(argv[0], argv[1], argv[2]), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

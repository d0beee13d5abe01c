"""Build docs/defaults.md: every documented default driftguard applies (the tables of the engine modules,
driftguard/engines/*.py, and of the extractor modules, each kind's ``KindInfo.defaults``), with its citation,
under the section of the defaults reference it cites, after that reference's source-key table.

    python scripts/gen_defaults_doc.py          write docs/defaults.md
    python scripts/gen_defaults_doc.py --check  exit 1 when docs/defaults.md is not what this writes

Notes and messages cite defaults as ``defaults.md §2.1 vLLM SamplingParams (VLLM-SP) top_p``: section 2.1 of
the page this writes, whose §0 names the upstream file and commit behind ``VLLM-SP``. The §0 table and the
section titles come from docs/defaults-sources.md (copied from the reference, with its attribution).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "defaults.md"
SOURCES = ROOT / "docs" / "defaults-sources.md"

#: Tables and single defaults that no kind declares as its ``KindInfo.defaults``: the kind they apply to and when.
EXTRA: dict[str, tuple[str, str]] = {
    "HF_TOKENIZER_LEFT_PADDING": ("hf-tokenizer", "tokenizer classes in HF_TOKENIZER_LEFT_PADDING_FAMILIES"),
    "LLAMAFACTORY_SGLANG_DEFAULTS": ("llamafactory", "inference files with `infer_backend: sglang`"),
    "LLAMAFACTORY_TRAIN_DEFAULTS": ("llamafactory", "`llamafactory-cli train` files"),
    "LLAMAFACTORY_VLLM_DEFAULTS": ("llamafactory", "inference files with `infer_backend: vllm`"),
    "OPENAI_COMPLETIONS_DEFAULTS": ("openai", "legacy Completions requests (`prompt`)"),
    "TENSORRT_LLM_LLMAPI_DEFAULTS": ("tensorrt-llm", "LLM-API SamplingParams"),
    "TENSORRT_LLM_SERVE_DEFAULTS": ("tensorrt-llm", "`trtllm-serve` requests"),
    "GENERATE_DEFAULTS": ("sglang", "`/generate` bodies (`text` or `input_ids` with `sampling_params`)"),
    "COMPLETIONS_DEFAULTS": ("sglang", "`/v1/completions` bodies (`prompt`)"),
    "SERVER_GENERATE_DEFAULTS": ("lmdeploy", "api_server `/generate` bodies (`prompt` or `input_ids`, no `model`)"),
    "VIT_DEFAULTS": ("hf-preprocessor", "`ViTImageProcessor` (and `ViTFeatureExtractor`)"),
    "SIGLIP_DEFAULTS": ("hf-preprocessor", "`SiglipImageProcessor`"),
    "CLIP_DEFAULTS": ("hf-preprocessor", "`CLIPImageProcessor` (and `CLIPFeatureExtractor`)"),
    "BLIP_DEFAULTS": ("hf-preprocessor", "`BlipImageProcessor`"),
    "CONVNEXT_DEFAULTS": ("hf-preprocessor", "`ConvNextImageProcessor` (and `ConvNextFeatureExtractor`)"),
    "DEIT_DEFAULTS": ("hf-preprocessor", "`DeiTImageProcessor` (and `DeiTFeatureExtractor`)"),
    "BEIT_DEFAULTS": ("hf-preprocessor", "`BeitImageProcessor` (and `BeitFeatureExtractor`)"),
}
_EVERY = "every artifact of the kind"
_CITATION = re.compile(r"defaults\.md §(\d+(?:\.\d+)?) ")
_HEADING = re.compile(r"^(#{2,3}) (\d+(?:\.\d+)?)\.? (.+)$")


def _rows() -> list[tuple[str, str, str, str, Any, str]]:
    """``(section, kind, when, key, value, citation)`` for every module-level Default table (or single Default) of
    the built-in engine and extractor modules, found through their registries (a new engine needs no line here)."""
    import importlib

    from driftguard import engines, extractors
    from driftguard.keys import Default

    modules = dict.fromkeys(ref.module for registry in (engines.ENGINES, extractors.EXTRACTORS)
                            for ref in registry.refs() if ref.builtin)

    by_table = {id(extractors.info(kind).defaults): kind for kind in extractors.builtin_kinds()
                if extractors.info(kind).defaults}
    rows = []
    seen: set[int] = set()
    for module_name in modules:
        module = importlib.import_module(module_name)
        for name, obj in sorted(vars(module).items()):
            if isinstance(obj, Default):
                items = {_key_of(name): obj}
            elif isinstance(obj, dict) and obj and all(isinstance(v, Default) for v in obj.values()):
                items = obj
            else:
                continue
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            if id(obj) in by_table:
                kind, when = by_table[id(obj)], _EVERY
            elif name in EXTRA:
                kind, when = EXTRA[name]
            else:
                raise SystemExit(f"{module_name}.{name}: add it to EXTRA in {Path(__file__).name} (which kind, "
                                 "and when)")
            for key, default in items.items():
                m = _CITATION.match(default.source)
                if m is None:
                    raise SystemExit(f"{module_name}.{name}[{key}]: the source does not cite 'defaults.md §N': "
                                     f"{default.source}")
                rows.append((m.group(1), kind, when, key, default.value, default.source))
    return rows


def _key_of(name: str) -> str:
    return {"HF_TOKENIZER_LEFT_PADDING": "preprocessing.padding_side"}[name]


def _value(value: Any) -> str:
    return "`" + json.dumps(value) + "`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render() -> str:
    """The page's text."""
    sources = SOURCES.read_text(encoding="utf-8")
    table = sources[sources.index("## 0. Source keys used in the tables"):sources.index("## Section titles")]
    headings = [m.groups() for line in sources.splitlines() if (m := _HEADING.match(line))]
    headings = [h for h in headings if h[1] != "0"]
    rows = _rows()
    known = {number for _, number, _ in headings}
    for section, *_, source in rows:
        if section not in known:
            raise SystemExit(f"'{source}' cites §{section}, which the reference has no section for")
    out = [
        "<!-- Generated by scripts/gen_defaults_doc.py from driftguard/engines/*.py, driftguard/extractors/triton.py",
        "and docs/defaults-sources.md;",
        "do not edit by hand: run `python scripts/gen_defaults_doc.py`. -->",
        "",
        "# Documented defaults",
        "",
        "When an artifact leaves a setting unset, driftguard compares the value the engine documents for it. This",
        "page lists every such default (the tables of the engine modules, `driftguard/engines/*.py`, and of the",
        "Triton extractor), by the kind of artifact it applies to, with the",
        "citation driftguard writes in the value's `note` (JSON) and in messages: `defaults.md §2.1 vLLM",
        "SamplingParams (VLLM-SP) top_p` means section 2.1 below, read from the upstream file and commit that §0",
        "lists under `VLLM-SP`. The section numbers are those of the reference the defaults were read from;",
        "sections with no row here are cited for precedence or type mappings, which the extractors apply in code.",
        "The Triton extractor also applies the §7 `ModelConfig` field defaults its notes cite",
        "(`driftguard/extractors/triton.py`).",
        "",
        "Source keys and section titles: copied, with attribution, from the driftguard team's reference of",
        "configuration defaults (see `docs/defaults-sources.md`).",
        "",
        table.rstrip(),
        "",
    ]
    for level, number, title in headings:
        out += [f"{level} {number}{'.' if level == '##' else ''} {title}", ""]
        here = sorted((r for r in rows if r[0] == number), key=lambda r: (r[1], r[2] != _EVERY, r[2], r[3]))
        if not here:
            continue
        out += ["| kind | applies to | key | value | citation |", "|---|---|---|---|---|"]
        out += [f"| `{kind}` | {_cell(when)} | `{key}` | {_cell(_value(value))} | {_cell(source)} |"
                for _, kind, when, key, value, source in here]
        out.append("")
    out += _launcher_section()
    return "\n".join(out).rstrip() + "\n"


def _launcher_section() -> list[str]:
    """The defaults of launch commands: every flag of a built-in launcher (``engines.LAUNCHERS``) with a
    documented default, the value the launcher applies when a command leaves it unset, cited with the source
    file and commit it was read from."""
    from driftguard import engines

    rows = []
    for ref in engines.LAUNCHERS.refs():
        if not ref.builtin:
            continue
        for launcher in engines.LAUNCHERS.load(ref.name).LAUNCHERS:
            for flag in launcher.flags:
                if flag.default is not None and flag.key is not None:
                    spelled = ", ".join(f"`{x}`" for x in flag.spellings) or f"`{flag.dest}` (positional)"
                    rows.append(f"| `{launcher.name}` | {spelled} | `{flag.key}` | {_cell(_value(flag.default.value))} "
                                f"| {_cell(flag.default.source)} |")
    if not rows:
        return []
    return ["## Launch commands", "",
            "What a launcher applies when a command leaves a flag unset (`driftguard/engines/*_launcher.py`), read "
            "from the launcher's", "own source at the commit cited.", "",
            "| launcher | flag | key | value | citation |", "|---|---|---|---|---|", *rows, ""]


def main(argv: list[str]) -> int:
    text = render()
    if argv == ["--check"]:
        if not PAGE.is_file() or PAGE.read_text(encoding="utf-8") != text:
            print(f"{PAGE} is out of date: run python scripts/gen_defaults_doc.py", file=sys.stderr)
            return 1
        return 0
    if argv:
        print(__doc__, file=sys.stderr)
        return 2
    PAGE.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""The README's parity section is a contract: its commands parse, its tables are the code's codes and profiles,
its manifest and approval examples are valid and the shipped ones."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

from driftguard.cli import build_parser
from driftguard.manifest import Parity
from driftguard.parity import codes
from driftguard.parity.profiles import PROFILES
from driftguard.parity.runners import RUNNERS

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"


def _section() -> str:
    text = README.read_text(encoding="utf-8")
    return text.split("## Numerical parity: `driftguard parity`", 1)[1].split("\n## ", 1)[0]


def _commands() -> list[str]:
    rows = re.findall(r"^\| `(driftguard [^`]+)` \|", _section(), re.M)
    assert len(rows) == 3
    return rows


@pytest.mark.parametrize("usage", _commands())
def test_commands_in_the_table_parse(usage: str) -> None:
    # Fill each placeholder with a sample value and take the first choice of each alternative.
    text = usage.replace("\\|", "|").replace("...", "")
    text = re.sub(r"\[(--[a-z-]+) ([a-z]+)\|[^\]]*\]", r"\1 \2", text)
    text = re.sub(r"\[(--[a-z-]+) (FILE|NAME|PATH|DIR|REF)\]", r"\1 x", text)
    text = re.sub(r"\[(--[a-z-]+) NAME\[=PATH\]\]", r"\1 text", text)  # --format NAME[=PATH]: a format
    text = re.sub(r"\[(--[a-z-]+) N\]", r"\1 2", text)
    text = re.sub(r"\[(--[a-z-]+) YYYY-MM-DD\]", r"\1 2026-01-01", text)
    text = re.sub(r"\[(--[a-z-]+)\]", r"\1", text)
    args = shlex.split(text)[1:]
    assert "[" not in " ".join(args), args
    build_parser().parse_args(args)


def test_codes_table_is_the_catalog() -> None:
    rows = re.findall(r"^\| (DG5\d\d) \| `([a-z.-]+)` \| (\w+) \|", _section(), re.M)
    assert rows == [(c, cls.name, cls.severity) for c, cls in sorted(codes.CHECKS.items())]


def test_profiles_table_is_the_profiles() -> None:
    rows = dict(re.findall(r"^\| `(fp32|fp16|bf16|int8)` \| ([^|]+) \|", _section(), re.M))
    assert list(rows) == list(PROFILES)
    for name, prof in PROFILES.items():
        shown = dict(re.findall(r"([a-z_]+) [≥=] ([0-9.]+)", rows[name]))
        judged = {k: v for k, v in prof.bounds.items() if k != "elementwise_fraction"}
        assert {k: float(v) for k, v in shown.items() if k not in ("atol", "rtol")} == judged, name
        if "elementwise_fraction" in prof.bounds:  # shown as "no element beyond atol = rtol = ..."
            assert prof.bounds["elementwise_fraction"] == 0.0 and prof.atol == prof.rtol
            assert f"no element beyond `atol = rtol = {prof.atol:.0e}`".replace("e-0", "e-") in rows[name]


def test_manifest_example_validates() -> None:
    block = _section().split("```yaml\n", 1)[1].split("```", 1)[0]
    doc = yaml.safe_load(block.replace("[...]", "[]"))
    Parity.model_validate(doc["models"]["text-classifier"]["parity"])


def test_approval_example_is_the_shipped_one() -> None:
    block = _section().split("**Accepting a degradation**", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    shown = yaml.safe_load(block)
    shipped = yaml.safe_load((ROOT / "examples" / "text-classifier" / "approvals" /
                              "text-classifier-int8-parity.yaml").read_text(encoding="utf-8"))
    assert shown.items() <= shipped.items()


def test_plots_extra_is_the_one_named() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert "`[plots]`" in _section() and 'plots = ["matplotlib' in pyproject
    assert re.search(r'^all = \["driftguard-ml\[[a-z,]*plots', pyproject, re.M)


def test_runners_table_is_the_registry() -> None:

    table = _section().split("### Runners", 1)[1].lstrip("\n").split("\n\n", 1)[0]
    assert sorted(re.findall(r"^\| `([a-z-]+)` \|", table, re.M)) == sorted(RUNNERS)


def test_gpu_paragraph_names_what_exists() -> None:
    assert "`bash benchmarks/gpu_check.sh`" in _section() and (ROOT / "benchmarks" / "gpu_check.sh").is_file()
    assert (ROOT / "tests" / "parity" / "test_gpu.py").is_file()


def _summarizer() -> str:
    return _section().split("### The summarizer under parity", 1)[1]


def test_summarizer_manifest_excerpt_is_the_shipped_one() -> None:
    block = _summarizer().split("```yaml\n", 1)[1].split("```", 1)[0]
    shown = yaml.safe_load(block)["parity"]
    shipped = yaml.safe_load((ROOT / "examples" / "summarizer" / "driftguard.yaml").read_text(encoding="utf-8"))
    assert shown == shipped["models"]["summarizer"]["parity"]
    Parity.model_validate(shown)


def test_summarizer_commands_parse() -> None:
    block = _summarizer().split("```bash\n", 1)[1].split("```", 1)[0]
    commands = [part.strip().split("#", 1)[0] for line in block.splitlines() for part in line.split("&&")]
    clis = [shlex.split(c)[1:] for c in commands if "/driftguard " in c]
    assert clis == [["parity"]]
    for args in clis:
        build_parser().parse_args(args)
    assert "python build.py" in block


def test_summarizer_output_is_the_attribution_format() -> None:
    from driftguard.model import Attribution, JointRevert, KeyRevert
    from driftguard.parity.attribution import describe

    shown = _summarizer().split("attribution: ", 1)[1].split("\n", 1)[0]
    result = Attribution(16, 16, 0, 16, (KeyRevert("preprocessing.max_length", 1024, 512, 5, 16),
                                         KeyRevert("generation.min_p", None, 0.0, 0, 16),
                                         KeyRevert("generation.top_p", 0.92, 0.85, 0, 16),
                                         KeyRevert("precision.compute", None, "bfloat16", 0, 16)),
                         (JointRevert(("preprocessing.max_length", "generation.top_p"), 11, 16),), 7, 7)
    assert shown == describe(result)


def test_executors_table_is_the_executors() -> None:
    from driftguard.parity.request import EXECUTORS

    table = _section().split("### Past one machine", 1)[1].split("| executor |", 1)[1].split("\n\n", 1)[0]
    assert re.findall(r"^\| `([a-z]+)` \|", table, re.M) == list(EXECUTORS)
    for usage in _commands()[:2]:  # parity and check --parity take it
        assert "[--executor local\\|threads\\|ray]" in usage
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert "`[ray]`" in _section() and 'ray = ["ray' in pyproject
    assert re.search(r'^all = \["driftguard-ml\[[a-z,]*ray', pyproject, re.M)
    assert (ROOT / "tests" / "parity" / "test_executors.py").is_file()

"""The TGI launcher table: text-generation-launcher's clap ``Args``, flags and the environment variables they
read."""

from __future__ import annotations

from driftguard.engines.tgi import LAUNCHER_DTYPES, LAUNCHER_QUANTIZE
from driftguard.engines.tgi_launcher import LAUNCHER
from driftguard.extractors import tgi as tgi_kind


def test_every_argument_reads_its_environment_variable() -> None:
    dests = LAUNCHER.by_dest()
    assert dests["max_input_tokens"].env == "MAX_INPUT_TOKENS" and dests["model_id"].env == "MODEL_ID"
    assert dests["env"].env is None  # `-e, --env` is the one argument without `env`
    assert all(f.env == f.dest.upper() for f in LAUNCHER.flags if f.dest != "env")
    for name in (*tgi_kind._LAUNCHER_MARKERS, "model_id"):
        assert name in dests, name


def test_clap_semantics() -> None:
    assert LAUNCHER.parser == "clap" and not LAUNCHER.underscores
    assert LAUNCHER.flag("--max_input_tokens") is None
    assert LAUNCHER.flag("-p").dest == "port" and LAUNCHER.flag("-e").dest == "env"
    assert LAUNCHER.flag("--trust-remote-code").action == "store_true"
    assert LAUNCHER.flag("--sharded").type == "bool" and LAUNCHER.flag("--sharded").action == "store"
    assert LAUNCHER.flag("--cuda-graphs").delimiter == ","
    assert LAUNCHER.flag("--dtype").choices == LAUNCHER_DTYPES
    assert LAUNCHER.flag("--quantize").choices == LAUNCHER_QUANTIZE
    assert LAUNCHER.flag("--dtype").key == "precision.compute" and not LAUNCHER.flag("--dtype").also
    assert (LAUNCHER.flag("--model-id").key, LAUNCHER.flag("--model-id").also) == ("model.source", True)
    assert LAUNCHER.flag("--max-total-tokens").key == "serving.max_model_len"
    assert LAUNCHER.flag("--max-batch-total-tokens").key == "tgi.launcher.max_batch_total_tokens"

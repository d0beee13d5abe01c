"""The tritonserver table: command_line_parser.cc's options and what decides auto-completion, checked by hand
at triton-inference-server/server@e1db8a603d86."""

from __future__ import annotations

from driftguard.engines.triton_launcher import FLAGS, STRICT_DEFAULT, TRITONSERVER, derive


def test_options() -> None:
    repo = TRITONSERVER.flag("--model-repository")
    assert repo is not None and repo is TRITONSERVER.flag("--model-store") and repo.action == "append"
    strict = TRITONSERVER.flag("--strict-model-config")
    assert strict is not None and strict.type == "bool" and strict.action == "store"
    assert strict.key == "serving.strict_model_config" and strict.default is STRICT_DEFAULT
    assert STRICT_DEFAULT.value is False
    disable = TRITONSERVER.flag("--disable-auto-complete-config")
    assert disable is not None and disable.action == "store_true" and disable.key is None
    assert TRITONSERVER.flag("--log-verbose").type == "int"  # type: ignore[union-attr]
    assert TRITONSERVER.flag("--backend-config").action == "append"  # type: ignore[union-attr]
    assert TRITONSERVER.flag("--load-model").dest == "load_model"  # type: ignore[union-attr]
    assert TRITONSERVER.flag("--help") is None and not TRITONSERVER.underscores
    assert len(FLAGS) == 89  # every Option of SetupOptions but --help (91 spellings, --model-store an alias)


def test_disable_auto_complete_wins_over_strict_false() -> None:
    (found,) = derive({"disable_auto_complete_config": True, "strict_model_config": False})
    assert (found.key, found.value, found.sources) == ("serving.strict_model_config", True,
                                                        ("disable_auto_complete_config",))
    assert derive({"strict_model_config": False}) == ()


def test_an_option_may_be_written_as_a_unique_prefix() -> None:
    """command_line_parser.cc parses with getopt_long, which accepts a long option abbreviated to a prefix that
    names one option only (glibc manual, "Parsing Long Options")."""
    assert TRITONSERVER.abbreviations
    assert TRITONSERVER.flag("--model-repo") is TRITONSERVER.flag("--model-repository")
    assert TRITONSERVER.flag("--disable-auto") is TRITONSERVER.flag("--disable-auto-complete-config")

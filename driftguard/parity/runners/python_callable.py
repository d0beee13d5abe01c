"""Python callable runner: the user's ``module:function(inputs, config) -> outputs`` for everything else
(custom pre- and post-processing, a service client). ``inputs`` is a batch (a dict of arrays from ``.npz``,
or a list of records from ``.jsonl``), ``config`` the side's effective config as ``{canonical key: value}``;
the result is a dict of arrays (or one array, named ``output``). The function is the user's own code named in
their manifest: trusted, run in this process. It applies the keys the manifest lists under ``applies:``, or
that the function declares as an ``applies`` attribute.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pydantic import Field

from driftguard.parity.errors import ParityError
from driftguard.parity.runners.base import Arrays, Batch, RunnerConfig, RunnerSettings, as_outputs, load_user_function


class CallableSettings(RunnerSettings):
    """The callable runner's settings."""

    function: str | None = Field(default=None, description="'module:function(inputs, config) -> outputs' "
                                                           "(your trusted code)")
    outputs: tuple[str, ...] = Field(default=(), description="output names (order of a tuple result)")
    applies: tuple[str, ...] = Field(default=(), description="canonical keys the function applies from its config")


class CallableRunner:
    Settings = CallableSettings
    runs_artifact = False
    def __init__(self, cfg: RunnerConfig[CallableSettings], config: Mapping[str, Any]) -> None:
        if not cfg.settings.function:
            raise ParityError("the callable runner needs 'function: module:function'")
        self.cfg = cfg
        self.spec = cfg.settings
        self.config = dict(config)
        self.func: Callable[..., Any] | None = None
        self.applies: frozenset[str] = frozenset(cfg.settings.applies)

    def describe(self) -> str:
        return f"callable:{self.spec.function}"

    def setup(self) -> None:
        assert self.spec.function is not None
        self.func = load_user_function(self.spec.function, self.cfg.base, "function")
        declared = getattr(self.func, "applies", ())
        self.applies = frozenset(self.spec.applies) | frozenset(str(k) for k in declared or ())

    def run(self, batch: Batch) -> Arrays:
        assert self.func is not None
        try:
            result = self.func(batch, dict(self.config))
        except ParityError:
            raise
        except Exception as exc:
            raise ParityError(f"function '{self.spec.function}' raised {type(exc).__name__}: "
                              f"{str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ''}") from None
        return as_outputs(result, self.spec.outputs, f"function '{self.spec.function}'")

    def teardown(self) -> None:
        self.func = None

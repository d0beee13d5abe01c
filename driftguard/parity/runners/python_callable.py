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

from driftguard.parity.errors import ParityError
from driftguard.parity.runners.base import Arrays, Batch, RunnerConfig, as_outputs, load_user_function


class CallableRunner:
    def __init__(self, cfg: RunnerConfig, config: Mapping[str, Any]) -> None:
        if not cfg.function:
            raise ParityError("the callable runner needs 'function: module:function'")
        self.cfg = cfg
        self.config = dict(config)
        self.func: Callable[..., Any] | None = None
        self.applies: frozenset[str] = frozenset(cfg.applies)

    def describe(self) -> str:
        return f"callable:{self.cfg.function}"

    def setup(self) -> None:
        assert self.cfg.function is not None
        self.func = load_user_function(self.cfg.function, self.cfg.base, "function")
        declared = getattr(self.func, "applies", ())
        self.applies = frozenset(self.cfg.applies) | frozenset(str(k) for k in declared or ())

    def run(self, batch: Batch) -> Arrays:
        assert self.func is not None
        try:
            result = self.func(batch, dict(self.config))
        except ParityError:
            raise
        except Exception as exc:
            raise ParityError(f"function '{self.cfg.function}' raised {type(exc).__name__}: "
                              f"{str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ''}") from None
        return as_outputs(result, self.cfg.outputs, f"function '{self.cfg.function}'")

    def teardown(self) -> None:
        self.func = None

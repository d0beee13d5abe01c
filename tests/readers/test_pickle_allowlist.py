"""The safe unpickler's allowlist, pinned: a snapshot of every name it resolves, and a refusal per dangerous
builtin, so that widening it (``builtins.getattr`` "just for this one checkpoint") fails a test and gets a review.
"""

from __future__ import annotations

import pickle

import pytest

from driftguard.errors import RefusedError
from driftguard.readers import pickle as safe_pickle

ALLOWLIST = (
    "_codecs.encode",
    "accelerate.utils.dataclasses.DistributedType",
    "argparse.Namespace",
    "builtins.bytearray",
    "builtins.complex",
    "builtins.dict",
    "builtins.frozenset",
    "builtins.object",
    "builtins.set",
    "collections.OrderedDict",
    "copyreg.__newobj__",
    "copyreg._reconstructor",
    "lightning.fabric.utilities.data.AttributeDict",
    "lightning.pytorch.utilities.parsing.AttributeDict",
    "lightning_fabric.utilities.data.AttributeDict",
    "pathlib.Path",
    "pathlib.PosixPath",
    "pathlib.PurePosixPath",
    "pathlib.PureWindowsPath",
    "pathlib.WindowsPath",
    "pytorch_lightning.utilities.parsing.AttributeDict",
    "torch.BFloat16Storage",
    "torch.BoolStorage",
    "torch.ByteStorage",
    "torch.CharStorage",
    "torch.ComplexDoubleStorage",
    "torch.ComplexFloatStorage",
    "torch.DoubleStorage",
    "torch.FloatStorage",
    "torch.HalfStorage",
    "torch.IntStorage",
    "torch.LongStorage",
    "torch.QInt32Storage",
    "torch.QInt8Storage",
    "torch.QUInt2x4Storage",
    "torch.QUInt4x2Storage",
    "torch.QUInt8Storage",
    "torch.ShortStorage",
    "torch.Size",
    "torch.Tensor",
    "torch._tensor._rebuild_from_type_v2",
    "torch._utils._rebuild_meta_tensor_no_storage",
    "torch._utils._rebuild_parameter",
    "torch._utils._rebuild_parameter_with_state",
    "torch._utils._rebuild_qtensor",
    "torch._utils._rebuild_tensor",
    "torch._utils._rebuild_tensor_v2",
    "torch._utils._rebuild_tensor_v3",
    "torch.bfloat16",
    "torch.bits16",
    "torch.bits1x8",
    "torch.bits2x4",
    "torch.bits4x2",
    "torch.bits8",
    "torch.bool",
    "torch.cdouble",
    "torch.cfloat",
    "torch.chalf",
    "torch.complex128",
    "torch.complex32",
    "torch.complex64",
    "torch.device",
    "torch.double",
    "torch.float",
    "torch.float16",
    "torch.float32",
    "torch.float4_e2m1fn_x2",
    "torch.float64",
    "torch.float8_e4m3fn",
    "torch.float8_e4m3fnuz",
    "torch.float8_e5m2",
    "torch.float8_e5m2fnuz",
    "torch.float8_e8m0fnu",
    "torch.half",
    "torch.int",
    "torch.int1",
    "torch.int16",
    "torch.int2",
    "torch.int3",
    "torch.int32",
    "torch.int4",
    "torch.int5",
    "torch.int6",
    "torch.int64",
    "torch.int7",
    "torch.int8",
    "torch.long",
    "torch.nn.parameter.Parameter",
    "torch.qint32",
    "torch.qint8",
    "torch.quint2x4",
    "torch.quint4x2",
    "torch.quint8",
    "torch.serialization._get_layout",
    "torch.short",
    "torch.storage.TypedStorage",
    "torch.storage.UntypedStorage",
    "torch.uint1",
    "torch.uint16",
    "torch.uint2",
    "torch.uint3",
    "torch.uint32",
    "torch.uint4",
    "torch.uint5",
    "torch.uint6",
    "torch.uint64",
    "torch.uint7",
    "torch.uint8",
    "transformers.debug_utils.DebugOption",
    "transformers.generation.configuration_utils.GenerationConfig",
    "transformers.trainer_pt_utils.AcceleratorConfig",
    "transformers.trainer_utils.EvaluationStrategy",
    "transformers.trainer_utils.FSDPOption",
    "transformers.trainer_utils.HubStrategy",
    "transformers.trainer_utils.IntervalStrategy",
    "transformers.trainer_utils.SaveStrategy",
    "transformers.trainer_utils.SchedulerType",
    "transformers.training_args.OptimizerNames",
    "transformers.training_args.TrainingArguments",
    "transformers.training_args_seq2seq.Seq2SeqTrainingArguments",
    "transformers.utils.generic.ExplicitEnum",
    "trl.trainer.sft_config.SFTConfig",
)

#: Globals that would run code, read files, or reach attributes: each must be refused by name.
DANGEROUS = (
    "builtins.eval", "builtins.exec", "builtins.compile", "builtins.getattr", "builtins.setattr",
    "builtins.delattr", "builtins.__import__", "builtins.open", "builtins.globals", "builtins.vars",
    "builtins.breakpoint", "builtins.input", "builtins.type", "builtins.object.__reduce__",
    "builtins.print", "builtins.memoryview", "builtins.list", "builtins.dict.fromkeys",
    "os.system", "posix.system", "nt.system", "os.popen", "os.execv", "subprocess.Popen",
    "subprocess.check_output", "subprocess.run", "shutil.rmtree", "pickle.loads", "_pickle.loads",
    "marshal.loads", "types.FunctionType", "types.CodeType", "functools.partial", "operator.attrgetter",
    "operator.methodcaller", "importlib.import_module", "runpy._run_code", "code.InteractiveInterpreter",
    "torch.load", "torch.jit.load", "torch._C._load_for_lite_interpreter", "torch.storage._load_from_bytes",
    "numpy.core.multiarray._reconstruct", "numpy.load", "copyreg._reconstructor.__globals__",
    "webbrowser.open", "sys.exit", "ctypes.CDLL",
)


def test_allowlist_is_exactly_the_snapshot() -> None:
    assert tuple(sorted(safe_pickle.ALLOWED)) == ALLOWLIST


@pytest.mark.parametrize("name", DANGEROUS)
def test_dangerous_global_is_refused_by_name(name: str) -> None:
    module, attr = name.rsplit(".", 1)
    for data in (b"\x80\x02c" + module.encode() + b"\n" + attr.encode() + b"\n.",  # GLOBAL
                 b"\x80\x04\x8c" + bytes([len(module)]) + module.encode() + b"\x8c" + bytes([len(attr)])
                 + attr.encode() + b"\x93."):  # STACK_GLOBAL
        with pytest.raises(RefusedError, match="refused pickle global") as exc:
            safe_pickle.loads(data, "evil.pkl")
        assert "nothing was executed" in str(exc.value)


def test_python2_spellings_are_mapped_and_refused() -> None:
    with pytest.raises(RefusedError, match=r"'builtins\.eval'"):
        safe_pickle.loads(b"\x80\x02c__builtin__\neval\n.", "py2.pkl")


@pytest.mark.parametrize("opcode", [b"\x82\x01", b"\x83\x01\x00", b"\x84\x01\x00\x00\x00"])
def test_extension_registry_opcodes_are_refused(opcode: bytes) -> None:
    import copyreg

    copyreg.add_extension("posix", "system", 1)
    try:
        with pytest.raises(RefusedError, match="EXT"):
            safe_pickle.loads(b"\x80\x02" + opcode + b".", "ext.pkl")
    finally:
        copyreg.remove_extension("posix", "system", 1)


def test_a_plain_state_dict_still_reads() -> None:
    import collections

    data = pickle.dumps({"a": collections.OrderedDict(x=1), "b": [1, 2.5, "s"], "c": (None, True)}, protocol=4)
    assert safe_pickle.loads(data, "ok.pkl") == {"a": {"x": 1}, "b": [1, 2.5, "s"], "c": (None, True)}

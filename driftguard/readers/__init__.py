"""The bounded readers every layer above shares: regular files read with a byte limit, the protobuf wire
format, the ONNX wire index, the safe unpickler and the torch archive, the safetensors header, JSON/YAML
documents with pointer lines, and weight tensors one at a time for DG401 (``tensors``), all governed by one
:class:`~driftguard.readers.limits.Limits` object.

A PR gate reads files written by whoever opened the pull request, so every reader here assumes an attacker
wrote its input: it never executes it, it has an explicit limit on bytes, objects, depth and element counts,
it keeps no state between files, and it reports anything it cannot read as a ``DriftguardError`` (exit 2).
This package imports nothing from driftguard above ``model``, ``keys``, ``normalize`` and ``errors``.
"""

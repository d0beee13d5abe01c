"""The oldest torch and onnxruntime that keep driftguard's promise about hostile artifacts, checked before either
loads one.

driftguard promises that a checkpoint or an ONNX model is never executed and never reads outside its folder. Two
of its loaders lean on the library for part of that, so an older library breaks the promise even where the
package metadata (``pyproject.toml``: the ``torch`` and ``parity`` extras) was ignored, as in an environment built
by hand or a lock file from before the floors:

* ``torch.load(weights_only=True)`` (DG401's tensor reads, the torch and hf parity runners): before 2.6.0 a
  crafted checkpoint could still run code through it, CVE-2025-32434 (GHSA-53q9-r3pm-6pq6, fixed in 2.6.0);
* ``onnxruntime.InferenceSession`` (the onnxruntime parity runner): external-data locations are checked to stay
  under the model's folder since microsoft/onnxruntime#26776 (absolute paths, ``..``, symlinks), for models read
  from memory since #27430 (1.24.3), and for sparse initializers only since #28408, listed under "Security
  Fixes" in the v1.27.0 release notes: before 1.27.0 a model can read any file the process can.

``check`` is called with the version of the module just imported, before the first artifact is handed to it; an
older one is an input error (exit 2) in one line that says what to install.
"""

from __future__ import annotations

from dataclasses import dataclass

from driftguard.errors import DependencyError


@dataclass(frozen=True)
class Floor:
    """The oldest safe release of one package and why older ones are not."""

    release: tuple[int, ...]
    why: str

    @property
    def text(self) -> str:
        return ".".join(map(str, self.release))


FLOORS: dict[str, Floor] = {
    "torch": Floor((2, 6, 0), "its torch.load(weights_only=True) can run code from a crafted checkpoint "
                              "(CVE-2025-32434)"),
    "onnxruntime": Floor((1, 27, 0), "it lets a model's external data name files outside the model's folder "
                                     "(sparse initializers: microsoft/onnxruntime#28408)"),
}


def release(version: str) -> tuple[int, ...]:
    """The numeric release of a version string: ``2.13.0+cpu`` -> (2, 13, 0), ``2.6.0rc1`` -> (2, 6, 0)."""
    parts: list[int] = []
    for piece in version.split("+", 1)[0].split("."):
        digits = ""
        for char in piece:
            if not char.isdigit():
                break
            digits += char
        if not digits:
            break
        parts.append(int(digits))
        if len(digits) < len(piece):  # a pre-release or dev suffix ends the release part
            break
    return tuple(parts)


def check(package: str, version: str) -> None:
    """DependencyError when ``version`` of ``package`` (a key of ``FLOORS``) is older than its floor."""
    floor = FLOORS[package]
    if release(version) < floor.release:
        raise DependencyError(f"{package} {version} is older than {floor.text}, and before {floor.text} {floor.why}: "
                              f"pip install '{package}>={floor.text}'")

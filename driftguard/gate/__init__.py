"""The gate's stages between the API facade and the parts it wires: ``sides`` (build and merge one side of a
model, with its serving path), ``pipeline`` (manifest -> sides -> rules -> approvals -> Report) and
``scaffold`` (``init``: discover artifacts and write a manifest)."""

"""Reference values for course_lib.nn.Embedding, computed with PyTorch.

Run with an interpreter that has torch (``pip install torch==2.13.0``):
    python tools/torch_reference/embedding.py
Writes tests/fixtures/torch_embedding.npz; the tests read it without torch.
"""
import pathlib

import numpy as np
import torch

out = {}
rng = np.random.default_rng(0)
weight = rng.standard_normal((7, 4))
ids = np.array([[1, 3, 3, 0], [6, 1, 2, 3]])  # repeated ids on purpose
upstream = rng.standard_normal((2, 4, 4))
for name, padding_idx in (("plain", None), ("pad", 3)):
    emb = torch.nn.Embedding(7, 4, padding_idx=padding_idx, dtype=torch.float64)
    with torch.no_grad():
        emb.weight.copy_(torch.from_numpy(weight))
    y = emb(torch.from_numpy(ids))
    y.backward(torch.from_numpy(upstream))
    out[f"{name}_y"] = y.detach().numpy()
    out[f"{name}_dweight"] = emb.weight.grad.numpy()
out["weight"], out["ids"], out["upstream"] = weight, ids, upstream
out["repr_plain"] = np.array(repr(torch.nn.Embedding(7, 4)))
out["repr_pad"] = np.array(repr(torch.nn.Embedding(7, 4, padding_idx=3)))
path = pathlib.Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "torch_embedding.npz"
np.savez(path, **out)
print("wrote", path)

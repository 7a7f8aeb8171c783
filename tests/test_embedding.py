import pathlib

import numpy as np
import pytest

from course_lib import nn
from course_lib.gradcheck import gradcheck

FIX = np.load(pathlib.Path(__file__).parent / "fixtures" / "torch_embedding.npz")


def _emb(padding_idx=None):
    emb = nn.Embedding(7, 4, padding_idx=padding_idx)
    emb.weight.data[...] = FIX["weight"]
    return emb


@pytest.mark.parametrize("name,padding_idx", [("plain", None), ("pad", 3)])
def test_forward_and_scatter_add_backward_match_pytorch(name, padding_idx):
    emb = _emb(padding_idx)
    y = emb(FIX["ids"])
    np.testing.assert_array_equal(y, FIX[f"{name}_y"])
    assert emb.backward(FIX["upstream"]) is None  # ids carry no gradient
    np.testing.assert_allclose(emb.weight.grad, FIX[f"{name}_dweight"], rtol=1e-14, atol=1e-15)


def test_repr_matches_pytorch():
    assert repr(nn.Embedding(7, 4)) == str(FIX["repr_plain"])
    assert repr(nn.Embedding(7, 4, padding_idx=3)) == str(FIX["repr_pad"])


def test_lookup_equals_one_hot_matmul():
    emb = nn.Embedding(5, 3, generator=np.random.default_rng(1))
    ids = np.array([4, 0, 4, 2])
    one_hot = np.eye(5)[ids]
    np.testing.assert_allclose(emb(ids), one_hot @ emb.weight.data)


def test_repeated_ids_accumulate():
    emb = nn.Embedding(3, 2)
    emb(np.array([1, 1, 1]))
    emb.backward(np.ones((3, 2)))
    np.testing.assert_array_equal(emb.weight.grad, [[0, 0], [3, 3], [0, 0]])


def test_gradcheck_through_embedding_and_linear():
    class EmbLinear(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(6, 3, generator=np.random.default_rng(0))
            self.head = nn.Linear(3, 6, generator=np.random.default_rng(1))

        def forward(self, x, ids):
            # x is a dummy float input so gradcheck has something to differentiate
            return self.head(self.emb(ids) + x)

        def backward(self, g):
            gx = self.head.backward(g)
            self.emb.backward(gx)
            return gx

    m = EmbLinear()
    ids = np.array([[0, 2, 2], [5, 1, 0]])
    x = np.random.default_rng(2).standard_normal((2, 3, 3))
    assert gradcheck(m, x, ids)


def test_tied_weights_collect_both_gradients():
    emb = nn.Embedding(5, 3, generator=np.random.default_rng(0))
    head = nn.Linear(3, 5, bias=False)
    head.weight = emb.weight  # tie: the output head reuses the embedding table (5, 3)
    model = nn.Sequential(emb, head)
    assert [n for n, _ in model.named_parameters()] == ["0.weight"]
    ids = np.array([1, 2])
    logits = model(ids)
    g = np.random.default_rng(3).standard_normal(logits.shape)
    model.backward(g)
    h = emb.weight.data[ids]
    expected = g.T @ h  # from the head
    np.add.at(expected, ids, g @ emb.weight.data)  # from the lookup
    np.testing.assert_allclose(emb.weight.grad, expected)


def test_padding_row_starts_at_zero_and_negative_index():
    emb = nn.Embedding(4, 2, padding_idx=-1)
    assert emb.padding_idx == 3
    np.testing.assert_array_equal(emb.weight.data[3], 0.0)


@pytest.mark.parametrize("ids,exc,match", [
    (np.array([0, 7]), IndexError, r"Embedding\(7, 4\): ids must be in \[0, 6\], got 7"),
    (np.array([-1]), IndexError, r"got -1"),
    (np.array([0.0, 1.0]), TypeError, r"expects integer token ids, got dtype float64"),
])
def test_bad_ids_are_clear_errors(ids, exc, match):
    with pytest.raises(exc, match=match):
        nn.Embedding(7, 4)(ids)


def test_bad_arguments_and_order():
    with pytest.raises(ValueError, match="num_embeddings must be a positive int"):
        nn.Embedding(0, 3)
    with pytest.raises(ValueError, match="padding_idx must be within"):
        nn.Embedding(3, 2, padding_idx=3)
    with pytest.raises(RuntimeError, match="backward\\(\\) called before forward\\(\\)"):
        nn.Embedding(3, 2).backward(np.zeros((1, 2)))
    emb = nn.Embedding(3, 2)
    emb(np.array([0, 1]))
    with pytest.raises(ValueError, match=r"expects grad_out of the output's shape \(2, 2\), got \(2, 3\)"):
        emb.backward(np.zeros((2, 3)))

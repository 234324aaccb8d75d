"""The contract between the graph builder (`e5onnx`) and the runtime (`textencoder`).

Kept apart so that the running agent does not import `onnx` and onnxruntime's quantisation
tools (~25 MB of resident memory) just to learn three names; they are imported only when the
cached model has to be built.
"""

from __future__ import annotations

from typing import Final

# Bump when the graph or its quantisation changes: cached models record it and are rebuilt.
BUILD_VERSION: Final = 2
INPUT_EMBEDDINGS: Final = "embeddings"  # float32 [batch, tokens, hidden]: the word-table rows
INPUT_MASK: Final = "attention_mask"  # int64 [batch, tokens]: 1 for a real token, 0 for padding
OUTPUT: Final = "embedding"  # float32 [batch, hidden], L2-normalised

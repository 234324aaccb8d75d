"""The chat-risk labels a message can carry: the message model's outputs, named in policies.

They live here, not with the model, so that the policy (`[chat] thresholds`) can be checked
without loading onnxruntime.  The order is the chat validation set README's and the model's.
"""

from __future__ import annotations

CHAT_LABELS = (
    "personal_info",
    "secrecy",
    "meeting",
    "image_request",
    "platform_move",
    "gifts",
    "sexual",
    "isolation",
    "sextortion",
    "bullying",
    "self_harm",
)

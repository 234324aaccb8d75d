"""On-device models: the shared text encoder (multilingual-e5-small on onnxruntime) and, later,
the image classifier and the chat-risk classifier.  Pure: never imports `abhaya.agent`."""

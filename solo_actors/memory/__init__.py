"""Long-term memory recalled by meaning: the ``memory`` actor, its embedder and vector index.

`embedder` turns text into unit vectors (ONNX MiniLM), `index` stores them (LanceDB or
pgvector), `actor` answers `Remember`/`Recall`/`Forget`. Import-light on purpose.
"""

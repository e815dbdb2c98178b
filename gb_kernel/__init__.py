"""gb_kernel: the notebook front. A Jupyter kernel for BASIC cells, magics, the chat widget."""

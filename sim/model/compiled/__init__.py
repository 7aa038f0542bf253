"""The compiled request path (numba): see kernel.py."""
raise ImportError("the compiled kernel is not built yet")

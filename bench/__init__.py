"""Benchmarks: `python -m bench lookup|import|all` (see bench/README.md)."""

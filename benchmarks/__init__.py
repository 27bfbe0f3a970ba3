"""Benchmarks of the learning rules on Fashion-MNIST; run with ``python -m benchmarks``."""

"""Benchmarks that print figures (see bench/README.md); they are not tests."""

"""Benchmarks that print figures (run with scripts/bench); not part of the tests."""

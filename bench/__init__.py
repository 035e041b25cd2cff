"""Benchmarks that measure and print Tongxin's figures against its targets (they never assert)."""

"""The Drover benchmark harness: scripts/bench runs it (see docs/BENCHMARKS.md, "The harness")."""

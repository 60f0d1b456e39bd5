"""One module per section of scripts/bench; each has run(bench) that appends its markdown to bench.report."""

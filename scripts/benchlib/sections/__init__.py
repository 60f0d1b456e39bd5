"""One module per section of scripts/bench; each has run(bench) that appends its markdown to bench.report."""


def with_and_without_archive(b, name, measure, render):
    """The series with the AppCDS archive, then (not in --quick) the same without one: spawn and memory."""
    render(b, measure(b, "with the AppCDS archive", name))
    if b.quick:
        b.report.para("(`--quick`: the series without an archive is skipped.)")
        return
    render(b, measure(b, "without an archive (drover.cds.enabled = false)", name + "-nocds",
                      env={"DROVER_CDS_ENABLED": "false"}))

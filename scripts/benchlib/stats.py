"""Statistics over a series of figures, formatted as the bench's tables print them."""


def _trim(value, decimals=2):
    """A number with at most `decimals` decimals and no trailing zeros: 388.50 -> "388.5", 293.00 -> "293"."""
    text = f"{value:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def median(values):
    """The median, as "n/a" for no values."""
    ordered = sorted(float(v) for v in values)
    n = len(ordered)
    if n == 0:
        return "n/a"
    mid = ordered[(n - 1) // 2] if n % 2 else (ordered[n // 2 - 1] + ordered[n // 2]) / 2
    return _trim(mid)


def minimum(values):
    """The smallest value as given (an int stays an int), or "" for none."""
    return str(min(values, key=float)) if values else ""


def maximum(values):
    return str(max(values, key=float)) if values else ""


def percentile(values, p):
    """The nearest-rank percentile p (0-100) of the values, or None for none."""
    ordered = sorted(values)
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def ratio(a, b):
    """a / b with 2 decimals, or "n/a" when b is not positive or a is missing."""
    if a is None or b is None or float(b) <= 0:
        return "n/a"
    return f"{float(a) / float(b):.2f}"


def mb(n_bytes):
    """Bytes as MB (2^20), one decimal."""
    return f"{(n_bytes or 0) / 1048576:.1f}"


def kb_mb(kb):
    """kB (as /proc reports them) as MB, one decimal."""
    return f"{(kb or 0) / 1024:.1f}"


def summary_row(label, values):
    """A table row: label, median, min, max, n."""
    return [label, median(values), minimum(values), maximum(values), len(values)]

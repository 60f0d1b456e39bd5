"""A reader for the subset of HOCON that Drover's reference.conf uses: nested `name {` blocks, `key = value` and
`key: value`, quoted or bare values, lists of strings (on one or several lines), # and // comments. The bench reads
the defaults it needs from there, so that they cannot drift from what the master uses."""
import json
import re

_KEY = re.compile(r'^\s*("?[A-Za-z0-9_.-]+"?)\s*(=|:|\{)\s*(.*)$')


def _strip_comment(line):
    """The line without its # or // comment (a # or // inside a quoted string stays)."""
    quoted = False
    for i, ch in enumerate(line):
        if ch == '"' and (i == 0 or line[i - 1] != "\\"):
            quoted = not quoted
        elif not quoted and (ch == "#" or line.startswith("//", i)):
            return line[:i]
    return line


def _value(text, where):
    text = text.strip().rstrip(",").strip()
    if text.startswith("["):
        try:
            return json.loads(re.sub(r",\s*]", "]", text))
        except json.JSONDecodeError as e:
            raise ValueError(f"{where}: a list this reader does not understand ({e}): {text}") from None
    if text.startswith('"'):
        return json.loads(text)
    return text


def parse(text, origin="<text>"):
    """A flat dict of dotted paths ("drover.worker-jvm-options") to values (str, or list of str)."""
    values, path, pending, start = {}, [], None, 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = _strip_comment(raw).strip()
        if pending is not None:
            pending[1] += " " + line
            if line.endswith("]") or line.endswith("],"):
                values[pending[0]] = _value(pending[1], f"{origin}:{start}")
                pending = None
            continue
        if not line:
            continue
        if line == "}":
            if not path:
                raise ValueError(f"{origin}:{number}: '}}' without a block to close")
            path.pop()
            continue
        m = _KEY.match(line)
        if not m:
            raise ValueError(f"{origin}:{number}: not a line this reader understands: {raw.strip()}")
        key, op, rest = m.group(1).strip('"'), m.group(2), m.group(3)
        if op == "{" or rest == "{":
            path.append(key)
            continue
        dotted = ".".join(path + [key])
        if rest.startswith("[") and not rest.rstrip(",").endswith("]"):
            pending, start = [dotted, rest], number
            continue
        values[dotted] = _value(rest, f"{origin}:{number}")
    if path or pending:
        raise ValueError(f"{origin}: unclosed block or list at the end ({'.'.join(path)})")
    return values


def load(path):
    with open(path, encoding="utf-8") as f:
        return parse(f.read(), str(path))

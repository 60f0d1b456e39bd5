"""The one renderer: markdown paragraphs and tables, appended in order, printed at the end."""
import re


class Report:
    def __init__(self):
        self.lines = []

    def add(self, *lines):
        """Lines of text; each call ends with whatever the caller gives (use blank() between paragraphs)."""
        self.lines.extend(lines)

    def para(self, *lines):
        """A paragraph: the lines, then a blank line."""
        self.lines.extend(lines)
        self.lines.append("")

    def blank(self):
        self.lines.append("")

    def table(self, header, rows):
        """A markdown table, then a blank line. Cells are str()-ed; None prints as empty."""
        self.lines.append(row(header))
        self.lines.append("|" + "---|" * len(header))
        for r in rows:
            self.lines.append(row(r))
        self.lines.append("")

    def text(self):
        return "\n".join(self.lines) + "\n"


def row(cells):
    """"| a | b |"; an empty cell prints as "| |", as the bash bench printed it."""
    text = "| " + " | ".join("" if c is None else str(c) for c in cells) + " |"
    return re.sub(r"\|  (?=\|)", "| ", text)

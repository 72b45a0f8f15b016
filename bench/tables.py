"""Markdown tables for BENCHMARKS.md, shared by the report and the parts that write their own
sections (a module of its own, below both, so that neither imports the other)."""


def table(header, rows):
    """Markdown lines of a table: `header` (cells), then one line a row."""
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + [
        "| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]

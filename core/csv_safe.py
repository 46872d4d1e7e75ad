"""CSV cells a spreadsheet will not evaluate: every export of the portal writes through this."""

FORMULA_START = frozenset("=+-@\t\r")


def neutralise(cell: str) -> str:
    """Defuse a cell a spreadsheet would evaluate (=, +, -, @, tab, CR) with an apostrophe."""
    return "'" + cell if cell and cell[0] in FORMULA_START else cell

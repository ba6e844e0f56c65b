"""Cell suppression of frequency and magnitude tables: primary (small cells) and secondary.

Primary suppression hides every cell with fewer than k records. Alone it does not protect: the
margins of a table (the ungrouped total, a row's total obtained by filtering on the row) are
answers too, and a margin minus the released cells of its line gives back a hidden cell exactly
(the "complement attack"). Secondary (complementary) suppression hides more cells until no
hidden cell can be recovered that way.

The heuristic follows the hypercube method of τ-ARGUS (Giessing & Repsilber): every 1-dimensional
line of the table (all cells that differ only in one coordinate) is assumed to have a published
total. In every line that hides anything, at least two cells must be hidden and the hidden
cells must together hold at least k records, else their union would itself be a small group
revealed by subtraction. Missing cells are added smallest first, and lines are revisited until
nothing changes, because a cell hidden for a row may open a column. A line of one cell equals
its margin, which is a cell of the lower-dimensional table and protected there.

Like τ-ARGUS's hypercube method this is a heuristic: it rules out exact recovery through any
single line, not every bound a linear program over many tables could derive. Answers that need
the stronger guarantee are released with noise instead (``privacy.dp``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Mapping

Cell = tuple[Hashable, ...]


def _order(cell: Cell) -> tuple[str, ...]:
    """A total order on cells whose values may be None or of mixed types, for determinism."""
    return tuple("" if value is None else f"~{value}" for value in cell)


def secondary_suppression(counts: Mapping[Cell, int], k: int) -> set[Cell]:
    """The cells of a table to hide so that none with fewer than ``k`` records can be derived.

    ``counts`` maps each non-empty cell (a tuple of its coordinates, one per dimension, all of
    the same length) to its number of records. Returns the primary cells (count < k) and the
    secondary ones chosen to protect them.
    """
    hidden = {cell for cell, n in counts.items() if n < k}
    if not counts or not hidden:
        return hidden
    dims = len(next(iter(counts)))
    changed = True
    while changed:
        changed = False
        for axis in range(dims):
            lines: dict[Cell, list[Cell]] = defaultdict(list)
            for cell in counts:
                lines[cell[:axis] + cell[axis + 1 :]].append(cell)
            for line in lines.values():
                if len(line) < 2:
                    continue
                gone = [cell for cell in line if cell in hidden]
                if not gone:
                    continue
                candidates = sorted(
                    (cell for cell in line if cell not in hidden),
                    key=lambda cell: (counts[cell], _order(cell)),
                )
                while candidates and (len(gone) < 2 or sum(counts[c] for c in gone) < k):
                    cell = candidates.pop(0)
                    hidden.add(cell)
                    gone.append(cell)
                    changed = True
    return hidden

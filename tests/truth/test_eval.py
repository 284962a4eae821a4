"""The checker runs over every row of the evaluation set without crashing.

Whether it is right on them is measured, not asserted: ``python bench/truth_eval.py``
prints precision, recall and coverage against their goals. This test only keeps the
set runnable against whatever languages and APIs the checker handles today.
"""

from __future__ import annotations

from tests.truth.eval.rows import load_rows
from tests.truth.eval.runner import check_rows, score


def test_every_row_is_checked_without_a_crash() -> None:
    rows = load_rows()
    outcomes = check_rows(rows)
    assert [o.row.id for o in outcomes] == [row.id for row in rows]
    assert [(o.row.id, o.crash) for o in outcomes if o.crash] == []
    for outcome in outcomes:
        assert outcome.checked >= 0
        assert outcome.unresolved >= 0
    total = score(outcomes)
    assert total.rows == len(rows)
    assert total.calls >= total.rows  # every snippet makes at least one API call

"""Evidence trails as notebook outputs: build, annotate, redact, read back.

``agent.evidence()`` returns an :class:`EvidenceTrail` that displays as
``application/vnd.fleetnb.evidence+json`` with escaped ``text/html`` and
``text/plain`` fallbacks; secrets are redacted before anything is displayed.
:func:`read_notebook` reads the trails a saved notebook carries.
"""

from __future__ import annotations

from fleetnb.evidence.annotate import ANNOTATION_KIND, annotate
from fleetnb.evidence.entries import ENTRY_KINDS
from fleetnb.evidence.notebook import NotebookEvidence, Problem, read_notebook, read_notebook_frame
from fleetnb.evidence.redact import redact, redact_value
from fleetnb.evidence.trail import (
    MIME_TYPE,
    SCHEMA,
    EvidenceFormatError,
    EvidenceTrail,
    build_trail,
)

__all__ = [
    "ANNOTATION_KIND",
    "ENTRY_KINDS",
    "MIME_TYPE",
    "SCHEMA",
    "EvidenceFormatError",
    "EvidenceTrail",
    "NotebookEvidence",
    "Problem",
    "annotate",
    "build_trail",
    "read_notebook",
    "read_notebook_frame",
    "redact",
    "redact_value",
]

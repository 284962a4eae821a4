"""Approval policy, risk classification and the queue."""

from __future__ import annotations

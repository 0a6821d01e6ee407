"""Synthetic practice data for graphsvc: ``python -m seed --out DIR``."""

from .generate import generate

__all__ = ["generate"]

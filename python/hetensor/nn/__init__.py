"""Recurrent layers (placeholder)."""

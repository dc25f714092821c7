"""Exporters: the one config translated into each tool's own format (core: no torch, no tool imported)."""

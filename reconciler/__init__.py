"""Reconcile an iPECS Cloud tenant with the YAML under sites/: load, diff, plan, apply."""

__version__ = "0.1.0"

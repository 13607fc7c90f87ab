"""The iPECS Cloud model: resources, tenant settings and the rules the portal enforces.

Nothing here reads files or talks to a tenant; `reconciler` does that and hands
plain data in. Everything here is pure so that rules can be tested on their own.
"""

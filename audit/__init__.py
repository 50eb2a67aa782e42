"""The audit trail: who created, changed or deleted which workspace data, and who sent what by hand.

Built on django-auditlog; entries are its ``LogEntry`` rows. See README.md for the modules.
"""

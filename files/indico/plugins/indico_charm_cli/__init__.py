"""Indico CLI plugins for the charm's actions (autocreate, anonymize)."""

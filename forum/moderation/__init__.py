"""Moderator actions and the audit log that records every one of them."""

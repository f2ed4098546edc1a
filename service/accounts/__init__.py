"""Accounts: users and their cache, passwords and tokens, login throttling, and who owns each background task."""

"""Staff accounts, their API tokens and sessions, and the limits on how often anyone may try."""

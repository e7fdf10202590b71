"""Users, roles, sessions, profiles and API tokens."""

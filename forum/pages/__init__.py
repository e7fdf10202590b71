"""The front page and small site-wide pages."""

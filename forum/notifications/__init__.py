"""The bell: mentions, replies and other things a member should know about."""

"""Realtime chat: public and private rooms, direct messages, presence, moderation.

``service`` holds the rules, ``sockets`` the /chat Socket.IO namespace, ``views``
the pages, ``forum.api.chat`` the JSON API. The protocol and the multi-process
deployment are described in README.md next to this file.
"""

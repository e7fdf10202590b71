"""Trust levels 0-4: what a member has earned by behaviour, and what it unlocks.

``service`` is the front: ``level_of`` and ``require_level`` are what other features
call before an act a newcomer may not do yet (links, images, mentions, DMs, commerce).
"""

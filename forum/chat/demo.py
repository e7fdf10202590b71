"""Demo chat: public rooms with a recent conversation, a private room, direct messages."""

from datetime import timedelta

from ..clock import now
from ..extensions import db
from . import service
from .models import ChatMessage, ChatRoom

ROOMS = (
    ("general", "General", "Say hi! Anything Plaza, any time."),
    ("deals", "Deals & drops", "Spotted a bargain or a group-buy? Share it here."),
    ("kitchen", "Kitchen talk", "What's cooking, gadgets, recipes."),
    ("help", "Help desk", "Questions about Plaza; moderators read along."),
)
SCRIPT = {
    "general": [
        "Morning everyone",
        "Morning! Anyone else up early for the **flash sale**?",
        "Not me, I'm here for the coffee.",
        "Welcome to the new folks who joined this week",
        "Is there a meet-up this weekend? The board-game night was fun last time.",
        "@{member} yes, Saturday 7pm, same place. Sign-up is in the events page.",
        "Great, count me in!",
        "Tip: you can embed offers in chat with `[[product:ID]]`, they show up as live cards.",
        "Nice, didn't know that.",
        "Also `@name` pings someone's bell",
    ],
    "deals": [
        "The noise-cancelling earbuds group-buy needs two more people.",
        "I'm in if it's under $60.",
        "It is: the team price is $54.",
        "[[product:1]]",
        "Joined. @{member} you were looking for these!",
        "Thanks! Joining now.",
    ],
    "kitchen": [
        "Sourdough update: it finally rose",
        "What flour ratio did you end up with?",
        "80% bread flour, 20% whole wheat, 75% hydration.",
        "Writing that down. Anyone tried the new air fryer from the deals room?",
        "Yes! Crispy tofu in 12 minutes. Highly recommend.",
    ],
    "help": [
        "How do I change my time zone?",
        "Settings → Profile → Time zone. Times everywhere follow it.",
        "Found it, thanks @{mod}!",
    ],
}
PRIVATE = (
    "Board-game night crew",
    "Planning Saturday's games",
    [
        "Who brings Catan this time?",
        "I can, and snacks",
        "I'll bring the new co-op one.",
        "Perfect, see you at 7!",
    ],
)
DIRECT = [
    "Hey! Did you get the sourdough recipe?",
    "Yes, thank you so much!",
    "Let me know how it turns out",
]


def build(ctx) -> None:
    rng = ctx.rng
    start = now() - timedelta(hours=30)
    sent: list[ChatMessage] = []
    for slug, name, topic in ROOMS:
        room = service.create_public_room(
            ctx.moderator if slug == "help" else ctx.admin, slug, name, topic
        )
        speakers = rng.sample(ctx.members, 6)
        for index, line in enumerate(SCRIPT[slug]):
            author = (
                speakers[index % len(speakers)]
                if slug != "help" or index % 2 == 0
                else ctx.moderator
            )
            text = line.format(
                member=speakers[(index + 1) % len(speakers)].username, mod=ctx.moderator.username
            )
            sent.append(service.send_message(author, room, text))
    owner, *crew = ctx.members[:4]
    private = service.create_private_room(owner, PRIVATE[0], [m.username for m in crew], PRIVATE[1])
    for index, line in enumerate(PRIVATE[2]):
        sent.append(service.send_message([owner, *crew][index % 4], private, line))
    alice, bob = ctx.members[0], ctx.members[1]
    direct = service.open_direct(alice, bob)
    for index, line in enumerate(DIRECT):
        sent.append(service.send_message(bob if index % 2 == 0 else alice, direct, line))
    # Spread the conversation over the last day and a bit, in id order.
    step = (now() - timedelta(minutes=5) - start) / max(len(sent), 1)
    when = start
    for message in sent:
        when += step * rng.uniform(0.3, 1.0)
        message.created_at = when
    for room in db.session.scalars(db.select(ChatRoom)):
        last = max((m for m in sent if m.room_id == room.id), key=lambda m: m.id, default=None)
        if last is not None:
            room.last_message_at = last.created_at
    ctx.summary.append(
        f"Chat: {len(ROOMS)} public rooms, a private room and a direct conversation ({len(sent)} messages)."
    )

"""Demo events: upcoming and past, some full with a waitlist, some sponsored,
one embedded in a meet-ups thread so the live card shows up in the forum."""

from datetime import datetime, timedelta

from sqlalchemy import select

from ..board import service as board
from ..clock import now, replaying
from ..extensions import db
from . import service
from .models import ATTENDED, CONFIRMED, NO_SHOW, Signup

UPCOMING = (
    # title, days ahead, hour (UTC), hours long, capacity, sign-ups, where, online, colour, sponsor index
    (
        "Saturday board-game night",
        3,  # days ahead at least; a weekday in the title puts it on that weekday
        18,
        4,
        8,
        12,
        "The Dice Tower café, 4 Market Row",
        None,
        "indigo",
        None,
    ),
    ("Photo walk by the river", 6, 9, 3, 15, 9, "Old Bridge, north end", None, "teal", None),
    (
        "Online book club: {month} pick",
        9,
        19,
        1,
        None,
        12,
        "",
        "https://meet.example.com/plaza-books",
        "violet",
        None,
    ),
    (
        "Espresso tasting with Acme Store",
        4,
        16,
        2,
        10,
        13,
        "Acme Store, 21 High Street",
        None,
        "amber",
        0,
    ),
    ("Farm visit & picnic", 12, 10, 6, 20, 5, "Green Valley Farm", None, "emerald", 1),
    ("Linux install party", 20, 14, 5, 6, 2, "Library makerspace, room 2", None, "slate", None),
    (
        "Intro to sourdough (online)",
        15,
        18,
        2,
        30,
        7,
        "",
        "https://meet.example.com/sourdough",
        "rose",
        None,
    ),
)
PAST = (
    ("Picnic in the park", 20, 12, 4, 12, 11, "Central Park, east lawn", "sky"),
    ("Mechanical keyboard meetup", 9, 18, 3, 10, 8, "Workshop 7, Canal Street", "slate"),
)
DESCRIPTIONS = {
    "Saturday board-game night": "Bring a game **you love** or learn a new one. Snacks provided; "
    "the café has 40 games on the shelf.\n\n- beginners welcome\n- we start at 6 sharp",
    "Espresso tasting with Acme Store": "Taste four single-origin espressos and learn to dial in a grinder. "
    "Sponsored by **Acme Store**: members get 10% off on the night.",
}


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def named_weekday(title: str) -> int | None:
    """The weekday (0 = Monday) a title names ("Saturday board-game night": 5), else None."""
    words = {word.strip(",.:!?").lower() for word in title.split()}
    return next((n for n, day in enumerate(WEEKDAYS) if day in words), None)


def on_its_weekday(title: str, starts: datetime) -> datetime:
    """``starts``, moved on to the weekday its title names (unchanged when it names none)."""
    day = named_weekday(title)
    return starts if day is None else starts + timedelta(days=(day - starts.weekday()) % 7)


def _category(slug: str):
    """The demo's category ``slug`` (None when the forum has no such category)."""
    return next((c for c in board.list_categories() if c.slug == slug), None)


def build(ctx) -> None:
    rng = ctx.rng
    members = ctx.members
    meetups = _category("meetups")
    made = []
    base = now().replace(minute=0, second=0, microsecond=0)
    for index, (
        title,
        days,
        hour,
        hours,
        capacity,
        wanted,
        place,
        link,
        colour,
        sponsor,
    ) in enumerate(UPCOMING):
        starts = on_its_weekday(title, (base + timedelta(days=days)).replace(hour=hour))
        title = title.format(month=starts.strftime("%B"))
        host = members[(index * 5) % len(members)]
        # Announced a week or two ago; members signed up since, not all at this moment.
        opened = base - timedelta(days=rng.randint(8, 14), hours=rng.randint(0, 23))
        with replaying(opened):
            event = service.create_event(
                host,
                title=title,
                description=DESCRIPTIONS.get(
                    title, f"Join us for {title.lower()}. Everyone is welcome."
                ),
                starts_at=starts,
                ends_at=starts + timedelta(hours=hours),
                location=place,
                online_url=link,
                capacity=capacity,
                signup_deadline=starts - timedelta(days=1) if index == 4 else None,
                sponsor_id=ctx.merchants[sponsor].id if sponsor is not None else None,
                cover_colour=colour,
                discussion_category="meetups"
                if (meetups is not None and index in (0, 3))
                else None,
            )
            if sponsor is not None:  # the host asked; the merchant said yes
                service.accept_sponsorship(ctx.merchants[sponsor], event)
        joiners = rng.sample([m for m in members if m.id != host.id], wanted)
        moments = sorted(opened + (now() - opened) * rng.random() for _ in joiners)
        for member, moment in zip(joiners, moments, strict=True):
            with replaying(moment):
                service.sign_up(member, event)
        made.append(event)
    # A reply in a meet-ups thread embeds the photo walk, so the card shows in the forum.
    talk = next((t for t in ctx.threads if t.category.slug == "meetups"), None)
    if talk is not None:
        board.reply(
            rng.choice(members),
            talk,
            f"Anyone up for this? Still seats left:\n\n[[event:{made[1].id}]]",
        )

    for index, (title, days_ago, hour, hours, capacity, wanted, place, colour) in enumerate(PAST):
        starts = (base + timedelta(days=2)).replace(hour=hour)
        host = members[(index * 7 + 3) % len(members)]
        event = service.create_event(
            host,
            title=title,
            description=f"{title}: thanks to everyone who came!",
            starts_at=starts,
            ends_at=starts + timedelta(hours=hours),
            location=place,
            capacity=capacity,
            cover_colour=colour,
        )
        for member in rng.sample([m for m in members if m.id != host.id], wanted):
            service.sign_up(member, event)
        # Demo only: move the finished event into the past, with the door list it had.
        shift = timedelta(days=days_ago + 2)
        event.starts_at -= shift
        event.ends_at -= shift
        event.created_at -= shift
        for signup in db.session.scalars(select(Signup).where(Signup.event_id == event.id)):
            signup.created_at -= shift
            if signup.status == CONFIRMED:
                came = rng.random() < 0.8
                signup.attendance = ATTENDED if came else NO_SHOW
                signup.checked_in_at = (
                    event.starts_at + timedelta(minutes=rng.randint(0, 40)) if came else None
                )
                signup.checked_in_by_id = host.id if came else None
                signup.reminded_at = event.starts_at - timedelta(hours=20)
        made.append(event)
    db.session.flush()
    full = sum(
        1
        for e in made
        if e.capacity is not None and e.seats_taken >= e.capacity and not e.has_ended()
    )
    ctx.summary.append(
        f"{len(made)} events ({len(UPCOMING)} upcoming, {full} full with a waitlist, {len(PAST)} past)."
    )


def refresh(since, at) -> str:
    """Keep the calendar live after the demo sat unused from ``since`` to ``at``: events
    still ahead at ``since`` move on by whole weeks (a Saturday stays a Saturday) until
    they, and their sign-up deadline, are ahead again; past events move on by the whole
    weeks gone, so they stay as long ago as they were. Cancelled events stay put."""
    from .. import signals
    from .models import Event

    week = timedelta(days=7)
    gone = int((at - since) / week)
    moved = []
    for event in db.session.scalars(select(Event).where(Event.cancelled_at.is_(None))):
        if event.ends_at > since:
            weeks = gone
            while event.starts_at + weeks * week <= at or (
                event.signup_deadline is not None and event.signup_deadline + weeks * week <= at
            ):
                weeks += 1
        else:
            weeks = gone
        if not weeks:
            continue
        shift = weeks * week
        event.starts_at += shift
        event.ends_at += shift
        if event.signup_deadline is not None:
            event.signup_deadline += shift
        if event.ends_at - shift <= since:  # a past event: its door list moves with it
            for signup in db.session.scalars(select(Signup).where(Signup.event_id == event.id)):
                for column in ("created_at", "checked_in_at", "reminded_at"):
                    value = getattr(signup, column)
                    if value is not None:
                        setattr(signup, column, value + shift)
        moved.append(event.id)
    db.session.flush()
    if moved:
        signals.search_stale.send("event", ids=moved)
    return f"{len(moved)} events"

"""Demo shop: two merchants with products (with generated images), cards embedded in
threads and chat rooms, and a few orders in every state."""

import io
import logging

from PIL import Image, ImageDraw, ImageFont

from ..board import service as board
from ..errors import ServiceError
from ..extensions import db
from . import service

log = logging.getLogger(__name__)

SHOPS = {
    "acme_store": dict(
        name="Acme Store",
        slug="acme",
        logo_initials="AS",
        tagline="Gadgets that just work.",
        currency="USD",
        shipping_fee_cents=490,
        free_shipping_threshold_cents=5000,
        offline_payments=True,
    ),
    "green_grocer": dict(
        name="Green Grocer",
        slug="green-grocer",
        logo_initials="GG",
        tagline="Kitchen staples from small producers.",
        currency="USD",
        shipping_fee_cents=350,
        free_shipping_threshold_cents=3000,
        offline_payments=True,
    ),
}
# (merchant, name, price_cents, stock, colours, description). The first is product 1,
# the earbuds the chat demo already talks about.
PRODUCTS = (
    (
        "acme_store",
        "Noise-cancelling earbuds",
        7900,
        25,
        ((79, 70, 229), (124, 58, 237)),
        "Active noise cancelling, **28 h** battery with the case, USB-C.\n\n- 3 ear-tip sizes\n- IPX4",
    ),
    (
        "acme_store",
        "Mechanical keyboard, brown switches",
        11900,
        4,
        ((15, 23, 42), (71, 85, 105)),
        "Tenkeyless, hot-swappable switches, PBT keycaps. A quiet tactile bump.",
    ),
    (
        "acme_store",
        "USB-C charger 65 W",
        3490,
        40,
        ((14, 165, 233), (3, 105, 161)),
        "Charges a laptop and a phone at once. GaN, folding plug.",
    ),
    (
        "acme_store",
        "Monitor arm",
        5900,
        0,
        ((100, 116, 139), (51, 65, 85)),
        "Gas spring, 2-9 kg, VESA 75/100. Back in stock soon.",
    ),
    (
        "green_grocer",
        "Sourdough starter kit",
        1850,
        12,
        ((217, 119, 6), (180, 83, 9)),
        "A lively rye starter, a jar, a scraper and our **no-fail** feeding schedule.",
    ),
    (
        "green_grocer",
        "Cast iron skillet 26 cm",
        4200,
        3,
        ((68, 64, 60), (28, 25, 23)),
        "Pre-seasoned, oven safe, lasts forever if you dry it properly.",
    ),
    (
        "green_grocer",
        "Hot sauce trio",
        2100,
        30,
        ((220, 38, 38), (234, 88, 12)),
        "Three fermented sauces: mild habanero, smoky chipotle and a fierce ghost pepper.",
    ),
    (
        "green_grocer",
        "Matcha tea, 100 g",
        1600,
        8,
        ((101, 163, 13), (21, 128, 61)),
        "Ceremonial grade from Uji. Whisk it, don't stir it.",
    ),
)
# Thread title -> (product index, who says it, text)
THREAD_EMBEDS = {
    "Mechanical keyboards for beginners": (
        1,
        "merchant",
        "We stock a good first board, brown switches:",
    ),
    "USB-C chargers explained": (2, "member", "This is the one I use for my laptop and phone:"),
    "Sourdough starter troubleshooting": (
        4,
        "member",
        "If yours won't wake up, this kit saved mine:",
    ),
    "Cast iron care": (5, "merchant", "Ours comes pre-seasoned. Only a few left:"),
    "Fermenting hot sauce": (6, "member", "Not homemade, but a great reference for flavour:"),
    "New: product cards in chat": (
        0,
        "admin",
        "Here is what a card looks like. Stock updates live:",
    ),
}
CHAT_EMBEDS = (
    ("deals", 2, "Charger restocked, 65 W for both laptop and phone:"),
    ("deals", 1, "Only a few keyboards left"),
    ("kitchen", 4, "For the sourdough crowd:"),
    ("kitchen", 7, "Matcha for the weekend bakes?"),
)


def _image(colours, text: str) -> bytes:
    """A 600x600 gradient tile with the product's initials (demo only)."""
    size = 600
    top, bottom = colours
    tile = Image.new("RGB", (size, size), top)
    draw = ImageDraw.Draw(tile)
    for y in range(size):
        t = y / (size - 1)
        draw.line(
            [(0, y), (size, y)],
            fill=tuple(int(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)),
        )
    draw.ellipse((120, 120, 480, 480), outline=(255, 255, 255), width=10)
    try:
        font = ImageFont.load_default(size=150)
    except TypeError:  # Pillow without scalable default font
        font = ImageFont.load_default()
    draw.text((size / 2, size / 2), text, fill=(255, 255, 255), font=font, anchor="mm")
    out = io.BytesIO()
    tile.save(out, "PNG")
    return out.getvalue()


def _initials(name: str) -> str:
    words = [w for w in name.replace(",", " ").split() if w[0].isalpha()]
    return "".join(w[0] for w in words[:2]).upper()


def build(ctx) -> None:
    merchants = {user.username: user for user in ctx.merchants}
    for username, profile in SHOPS.items():
        if username in merchants:
            service.save_merchant_profile(merchants[username], **profile)
    products = []
    for username, name, price, stock, colours, description in PRODUCTS:
        owner = merchants.get(username)
        if owner is None:
            continue
        product = service.create_product(
            owner,
            name=name,
            description=description,
            price_cents=price,
            stock=stock,
            image=_image(colours, _initials(name)),
        )
        products.append(product)
    db.session.flush()

    by_title = {thread.title: thread for thread in ctx.threads}
    embedded = 0
    for title, (index, who, text) in THREAD_EMBEDS.items():
        thread = by_title.get(title)
        if thread is None or index >= len(products):
            continue
        product = products[index]
        author = {"merchant": product.merchant.user, "admin": ctx.admin}.get(who) or ctx.rng.choice(
            ctx.members
        )
        board.reply(author, thread, f"{text}\n\n[[product:{product.id}]]")
        embedded += 1
    deals = next((c for c in board.list_categories() if c.slug == "deals"), None)
    if deals is not None and products:
        body = "Fresh from our shops this week:\n\n" + "\n\n".join(
            f"[[product:{p.id}]]" for p in products[:6]
        )
        picks = board.create_thread(ctx.admin, deals, "This week's picks from our shops", body)
        ctx.threads.append(picks)
        board.reply(
            ctx.rng.choice(ctx.members),
            picks,
            "The keyboard is almost gone, grab it while you can!",
        )
        embedded += 6
    sent = _chat_embeds(ctx, products)
    orders = _orders(ctx, products)
    ctx.summary.append(
        f"Shop: {len(merchants)} merchants, {len(products)} products, {embedded} cards in threads, "
        f"{sent} in chat, {orders} orders (log in as acme_store to see the merchant area)."
    )


def _chat_embeds(ctx, products) -> int:
    """Cards in chat rooms when the chat feature is installed (its demo runs before ours)."""
    try:
        from ..chat import service as chat
    except ImportError:
        return 0
    sent = 0
    for slug, index, text in CHAT_EMBEDS:
        try:
            room = chat.find_room(slug)
            if room is None or index >= len(products):
                continue
            author = ctx.rng.choice(ctx.members)
            chat.join(author, room)
            chat.send_message(author, room, f"{text}\n\n[[product:{products[index].id}]]")
            sent += 1
        except (
            ServiceError,
            AttributeError,
            TypeError,
        ) as exc:  # chat's API is its own; never break the demo
            log.warning("demo: could not post a product card in chat room %s: %s", slug, exc)
    return sent


def _orders(ctx, products) -> int:
    """A handful of orders in every state so the merchant pages have something to show."""
    if len(products) < 8:
        return 0
    rng = ctx.rng
    plan = [
        ([(0, 1)], "sandbox", ["ship", "complete"]),
        ([(2, 2)], "sandbox", ["ship"]),
        ([(0, 1), (2, 1)], "sandbox", []),
        ([(1, 1)], "offline", []),
        ([(4, 1), (7, 2)], "sandbox", ["ship", "complete"]),
        ([(6, 3)], "sandbox", ["refund"]),
        ([(5, 1)], None, ["cancel"]),
        ([(7, 1)], "offline", ["mark_paid"]),
    ]
    address = {
        "name": "",
        "line1": "12 Market Street",
        "city": "Springfield",
        "postal_code": "12345",
        "country": "US",
    }
    made = 0
    for lines, provider, steps in plan:
        buyer = rng.choice(ctx.members)
        order, _ = service.place_order(
            buyer,
            [(products[i].id, q) for i, q in lines],
            shipping_address={**address, "name": buyer.username.title()},
        )
        seller = order.merchant.user
        if provider:
            service.pay(buyer, order, provider)
        for step in steps:
            if step == "ship":
                service.ship(seller, order, tracking=f"PLZ{order.id:06d}")
            elif step == "complete":
                service.complete(buyer, order)
            elif step == "refund":
                service.refund(seller, order, reason="Arrived damaged")
            elif step == "cancel":
                service.cancel(buyer, order, reason="Ordered by mistake")
            elif step == "mark_paid":
                service.mark_paid(seller, order)
        made += 1
    return made

"""The demo's words: each member's voice, the categories with their hand-written threads,
and the things and patterns replies are made from (``forum.demo`` tells the story)."""

VOICES = {
    "alice": (
        "I've had my {thing} for two years and still use it daily. Read the manual once, "
        "honestly: half the 'faults' people post about are settings.",
        "Welcome to the club! Mine needed a week before I got the hang of it; ask here "
        "if something looks off, we've all been there.",
    ),
    "bob": (
        "Get the mid-range {thing}. The cheapest breaks, the top one isn't worth double.",
        "Buy once, cry once.",
    ),
    "carol": (
        "What I check on any {thing}:\n\n1. warranty length\n2. spare parts you can order\n"
        "3. how loud it is\n\nEverything else is taste.",
        "Made a little table for myself before buying mine:\n\n- price per year of use\n"
        "- repairability\n- what the one-star reviews complain about",
    ),
    "dave": (
        "Counterpoint: most people don't need a {thing} at all. Try a month without one "
        "before spending anything.",
        "I'll be the grump: half the reviews of any {thing} are from people who got it free.",
    ),
    "erin": (
        "Following this. I'm fairly new to all this: is there a {thing} that's easy to start with?",
        "Thanks for asking this, I was about to post the same question!",
    ),
    "frank": (
        "Don't pay full price: the {thing} goes on sale every few weeks, and our group-buys "
        "beat most of those. Watch the Deals category.",
        "Set a price alert and be patient. I paid 35% less for mine by waiting a month.",
    ),
    "grace": (
        "Whatever you pick, keep the box and photograph the serial number. It made my "
        "{thing} return painless.",
        "Check the *return policy* before you buy: thirty days beats fourteen.",
    ),
    "heidi": (
        "I measured mine: the {thing} does what the spec sheet says, but only in the best "
        "case. Knock 20% off any headline figure.",
        "Specs that matter on a {thing}: the ones the box doesn't brag about.",
    ),
    "ivan": (
        "My cat approves of my {thing}, which is the highest rating available in this house.",
        "Confession: I bought a {thing} to save time and now spend that time reading threads "
        "about it.",
    ),
    "judy": (
        "What's your budget, and how often will you use it? That changes the answer a lot.",
        "Depends: daily use, or now and then? For now and then, the basic {thing} is plenty.",
    ),
}
PLAIN = (
    "I went with a mid-priced {thing} last year and I'm happy with it.",
    "Seconding the advice above: read the one-star reviews first, they're the honest ones.",
    "Ours has been fine. Nothing exciting, and that's the point.",
    "If you can, try one in a shop first; the feel matters more than the specs.",
)
THANKS = (
    "Thanks all, this helped a lot. Going with the mid-range one.",
    "Great answers, thank you. @{name}, yours was exactly what I needed.",
    "Update: ordered one. I'll report back in a month.",
)
CATEGORIES = (
    ("announcements", "Announcements", "News from the Plaza team."),
    ("deals", "Deals & group-buys", "Offers from our merchants, group-buys and flash sales."),
    ("kitchen", "Kitchen & food", "Recipes, gadgets and what's cooking."),
    ("tech", "Tech talk", "Phones, laptops, home networks and gadgets."),
    ("meetups", "Meet-ups & events", "Get together online and in town."),
    ("off-topic", "Off-topic", "Everything else."),
)
# category -> [(title, opening post, [(author, reply), ...])]; author "" is someone fitting.
TOPICS: dict[str, list[tuple[str, str, list[tuple[str, str]]]]] = {
    "announcements": [
        (
            "Welcome to Plaza!",
            "Hello and welcome! Plaza is a forum where you talk about the things you use, "
            "buy them together for less, and meet up.\n\n- **Introduce yourself** in "
            "Off-topic\n- **Deals** has group-buys and snap-ups from our merchants\n- "
            "**Meet-ups & events** lists what's on; sign up from the event card",
            [
                ("alice", "Hi everyone! I've been here since the beta; ask me anything."),
                ("erin", "Just joined. Is there a guide to how group-buys work?"),
                (
                    "alice",
                    "@erin start a team or join one on a group-buy card; when the team "
                    "fills, everyone gets the group price.",
                ),
            ],
        ),
        (
            "House rules, short version",
            "Be kind, stay on topic, no spam. Merchants say they're merchants. The full "
            "guidelines are linked in the footer; flag what breaks them.",
            [
                ("dave", "Short and sensible. Can we add 'no all-caps titles'?"),
                ("admin", "@dave fair, it's in the full version now."),
            ],
        ),
        (
            "New: product cards in chat",
            "You can now drop a product card into any chat room: paste `[[product:ID]]` and "
            "the card shows live price and stock.",
            [
                ("frank", "Finally! No more pasting links that go stale."),
                ("heidi", "Does stock update without a refresh? Looks like it does here."),
            ],
        ),
    ],
    "deals": [
        (
            "Best budget headphones this month?",
            "My commute got longer and my old headphones died. Around $60, closed-back or "
            "earbuds, good enough for podcasts on a train. What's the pick right now?",
            [
                ("bob", "Earbuds with noise cancelling. Trains are loud."),
                ("frank", "The Acme earbuds drop in a snap-up now and then. Worth the wait."),
                ("judy", "Podcasts only, or music too? For speech almost anything works."),
            ],
        ),
        (
            "Group-buy etiquette",
            "Started my first group-buy team and two people joined, then went quiet. What's "
            "the polite way to nudge people, and is it fine to share the link outside Plaza?",
            [
                ("alice", "Sharing is fine, that's what the share link is for."),
                (
                    "carol",
                    "What works for me:\n\n1. post in the deals chat\n2. say how many "
                    "slots are left\n3. don't nag more than once a day",
                ),
            ],
        ),
        (
            "Is the snap-up worth it?",
            "Snap-ups are half price but gone in minutes. Has anyone actually got one, and "
            "was it the real deal or last year's stock?",
            [
                ("frank", "Got two so far, both current stock. Be logged in before it opens."),
                ("dave", "Half price on a price nobody pays anyway. Compare with the usual sale."),
                ("grace", "Mine arrived boxed and sealed, receipt and all."),
            ],
        ),
        (
            "Share your best bargain",
            "Let's hear it: the best thing you bought for far less than it was worth. Mine: "
            "a cast iron pan for $5 at a car-boot sale, still going after ten years.",
            [
                ("ivan", "A free sofa from a neighbour. It came with a cat. Not my cat."),
                ("frank", "Standing desk at 40% off in a group-buy here last spring."),
            ],
        ),
        (
            "Price tracking tips",
            "How do you all keep track of prices without checking ten shops every day?",
            [
                ("heidi", "A spreadsheet and a weekly look. Prices move slower than you'd think."),
                ("frank", "Price alerts, and the Deals category here. That's it."),
            ],
        ),
    ],
    "kitchen": [
        (
            "Sourdough starter troubleshooting",
            "Day six and my starter smells like nail polish and barely rises. Rye and water, "
            "fed once a day, kitchen at about 19 °C. What am I doing wrong?",
            [
                ("alice", "Nail polish means hungry. Feed it twice a day for a few days."),
                (
                    "carol",
                    "Try:\n\n1. a warmer spot (24 °C)\n2. equal weights flour and water\n"
                    "3. discard all but a spoonful before feeding",
                ),
                ("", "Same happened to me; twice-daily feeding fixed it within three days."),
            ],
        ),
        (
            "Cast iron care",
            "Inherited my gran's cast iron pan. It's rusty in spots. Can it be saved, and how "
            "do I look after it after that?",
            [
                ("bob", "Steel wool, thin oil, hot oven, repeat. It'll outlive you."),
                ("grace", "Don't soak it. Dry it on the hob straight after washing."),
                ("ivan", "Cast iron is the only thing in my kitchen that improves with neglect."),
            ],
        ),
        (
            "Weeknight noodle recipes",
            "Looking for noodle dishes I can make in 20 minutes after work. Share your go-to!",
            [
                ("", "Garlic, chilli oil, soy, a fried egg on top. Ten minutes."),
                ("alice", "Peanut butter, lime and soy sauce, with whatever greens are left."),
            ],
        ),
        (
            "Which chef's knife?",
            "I've been using a cheap knife block set for years. Time for one good chef's "
            "knife. Western or Japanese, and what size?",
            [
                ("carol", "20 cm is the all-rounder. Hold a few before you choose."),
                ("dave", "A $40 knife that's sharp beats a $200 one that isn't. Buy a stone."),
            ],
        ),
        (
            "Fermenting hot sauce",
            "First batch of fermented chilli sauce is bubbling away. How long do you leave "
            "it before blending?",
            [
                ("heidi", "Two weeks at room temperature, then taste. pH under 4 is safe."),
                ("", "Mine went three weeks and was worth the wait."),
            ],
        ),
        (
            "Meal prep for the week",
            "I keep buying vegetables and throwing half away. How do you plan meals for "
            "the week without it feeling like a chore?",
            [
                ("judy", "How many people, and do you like eating the same thing twice?"),
                ("carol", "Sunday: one big grain, one roast tray of veg, two sauces. Mix daily."),
            ],
        ),
    ],
    "tech": [
        (
            "Mechanical keyboards for beginners",
            "I type all day and want to try a mechanical keyboard without going down the "
            "rabbit hole. What should a first board have?",
            [
                ("heidi", "Hot-swappable switches, so you can try others later without solder."),
                ("bob", "Brown switches. Quiet enough for the office."),
            ],
        ),
        (
            "Home NAS on a budget",
            "I want one place for family photos and backups. Ready-made NAS or an old PC?",
            [
                ("heidi", "An old PC idles at 30 W or more; a small NAS at 10 W. Do the sums."),
                ("grace", "Whatever you pick: a NAS is not a backup. Keep a copy elsewhere."),
            ],
        ),
        (
            "Which e-reader?",
            "Mostly novels, some PDFs, reading in bed. Is a front light and a warm tint worth "
            "paying for?",
            [
                ("alice", "Warm light, yes, every night. My eyes thank me."),
                ("judy", "How many PDFs? Small screens and PDFs don't mix."),
            ],
        ),
        (
            "Wi-Fi dead zones",
            "Our flat is long and narrow; the bedroom at the end barely gets signal. Mesh "
            "kit, a repeater, or a cable?",
            [
                ("bob", "Cable if you can. Always."),
                ("heidi", "Mesh with a wired backhaul is the best of both, if a cable can reach."),
            ],
        ),
        (
            "Linux on an old laptop",
            "I have a 2014 laptop with 4 GB of RAM. Which Linux will make it usable again?",
            [
                ("", "A light desktop (Xfce) and an SSD. The SSD matters more than the distro."),
                ("dave", "4 GB in 2026 is the real problem: the browser eats it all."),
            ],
        ),
        (
            "USB-C chargers explained",
            "Why does my laptop charge from one USB-C charger and not another that looks the same?",
            [
                ("heidi", "Watts: laptops want 45-65 W and USB Power Delivery. Check the label."),
                ("erin", "So a phone charger just isn't strong enough? That explains a lot."),
            ],
        ),
    ],
    "meetups": [
        (
            "Ideas for our next meet-up",
            "We've done board games and a picnic. What should we do next? Outdoors, "
            "indoors, online, all welcome.",
            [
                ("ivan", "A cook-off. Judged by people who can't cook, for fairness."),
                ("", "A repair café: bring something broken, leave with it fixed."),
            ],
        ),
        (
            "Car-sharing to meet-ups",
            "Some of us live out of town. Shall we use this thread to offer and ask for lifts "
            "to meet-ups?",
            [
                ("grace", "Good idea. I can take three from the north side most weekends."),
                ("erin", "I'd love a lift to the farm visit, happy to pay for petrol."),
            ],
        ),
        (
            "Photos from the picnic",
            "What a day at the picnic in the park! Post your photos here, and thanks to all who came.",
            [
                ("alice", "What a lovely afternoon. Same time next season?"),
                ("ivan", "Evidence that I did bring the dessert, as promised."),
            ],
        ),
    ],
    "off-topic": [
        (
            "What are you reading?",
            "I'm halfway through a long history of the spice trade and loving it. What's on "
            "your nightstand?",
            [
                ("alice", "A comfort re-read of an old detective series."),
                ("dave", "The manual of my new dishwasher. Riveting."),
            ],
        ),
        (
            "Favourite podcasts",
            "I need new podcasts for my commute. What do you never skip?",
            [
                ("", "Anything where two experts argue politely."),
                ("ivan", "A cooking one where they mostly talk about cats."),
            ],
        ),
        (
            "Show your desk setup",
            "Post a description (or a photo) of your desk. Mine: a monitor arm, a lamp, too "
            "many cables.",
            [
                ("heidi", "One cable tray under the desk changed my life. Not exaggerating."),
                ("carol", "Mine:\n\n- standing desk\n- one monitor, on an arm\n- a plant"),
            ],
        ),
        (
            "Rainy day movies",
            "It's pouring here. Recommend a film for a grey afternoon with tea.",
            [
                ("alice", "An old musical. Impossible to stay gloomy."),
                ("bob", "Anything long with a good score."),
            ],
        ),
    ],
}
# Things members talk about, in the categories where they belong.
THINGS = {
    "kitchen": [
        "air fryer",
        "rice cooker",
        "espresso grinder",
        "tea kettle",
        "blender",
        "stand mixer",
        "cast iron skillet",
        "coffee scale",
    ],
    "tech": [
        "router",
        "smart plug",
        "noise-cancelling earbuds",
        "monitor arm",
        "webcam",
        "USB-C dock",
        "robot vacuum",
        "e-reader",
    ],
    "off-topic": [
        "standing desk",
        "desk lamp",
        "yoga mat",
        "trail shoes",
        "backpack",
        "e-bike",
        "camping stove",
        "rain jacket",
    ],
}
# title pattern -> opening post (the first post asks or tells; replies answer it)
PATTERNS = {
    "Thoughts on the {thing}?": "I'm about to buy a {thing} and would love to hear from "
    "people who own one. What do you like about yours, and what would you change?",
    "Best {thing} under $100": "My budget is $100, tops. Which {thing} would you pick, and "
    "why? Bonus points for one you've owned for a while.",
    "My {thing} review after a month": "A month in with my new {thing}, so here's an honest "
    "write-up.\n\n**Good:** it does the main job well and it's easy to clean.\n\n**Not so "
    "good:** louder than I expected, and the manual is useless.\n\nHappy to answer questions.",
    "{Thing} recommendations": "My old {thing} finally gave up after years of service. What "
    "should I replace it with? I care more about it lasting than about features.",
    "Anyone returned their {thing}?": "Mine arrived with a fault and I'm weighing a return "
    "against a repair. How did returns go for you?",
    "Is a {thing} worth it?": "Every review says a {thing} changed their life. Honest "
    "question: did it change yours, or is it gathering dust?",
    "{Thing}: what to look for": "First-time buyer here. What actually matters when picking "
    "a {thing}, and what is just marketing?",
}
REVIEW_REPLIES = (
    "How loud is loud? I'm in a flat with thin walls.",
    "Thanks for the honest write-up, the 'not so good' part is what I needed.",
    "Did you compare it with the cheaper model before buying?",
)
DEAL_TITLES = (  # the deals category: prices, group-buys and timing, not product reviews
    "Is the {thing} group-buy a good price?",
    "Waiting for a {thing} sale: worth it?",
)
DEAL_OPENER = (
    "I've had my eye on a {thing} for weeks. Is the current price a real deal, or does it "
    "drop lower if I wait?"
)

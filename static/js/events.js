/* Events: live seats on every card, tile and event page, and signing up from an
   embedded [[event:ID]] card without leaving the post or chat. User text is
   never inserted here: only numbers and fixed labels, through textContent.
   The card template may include this file more than once; it runs once. */
(function () {
  "use strict";
  if (window.PlazaEvents) return;

  const loggedIn = () => Boolean(document.body.dataset.userId);

  function holders(eventId) {
    return document.querySelectorAll(`[data-event-id="${Number(eventId)}"]`);
  }

  function setText(root, selector, value) {
    root.querySelectorAll(selector).forEach((el) => { el.textContent = String(value); });
  }

  // Apply a pushed (or fetched) seats payload; older versions than shown are ignored.
  function applySeats(data) {
    if (!data || data.event_id == null) return;
    holders(data.event_id).forEach((el) => {
      const shown = Number(el.dataset.version || 0);
      if (data.version != null && Number(data.version) < shown) return;
      if (data.version != null) el.dataset.version = String(data.version);
      const full = data.capacity != null && Number(data.seats_left) === 0;
      if (data.seats_left != null) setText(el, "[data-seats-left]", data.seats_left);
      setText(el, "[data-seats-taken]", data.seats_taken);
      setText(el, "[data-waitlist-count]", data.waitlist_count);
      el.querySelectorAll("[data-seat-meter]").forEach((m) => { m.value = Number(data.seats_taken); });
      el.classList.toggle("is-full", full);
      el.classList.toggle("is-closed", !data.signups_open);
      el.classList.toggle("is-cancelled", Boolean(data.cancelled));
      el.querySelectorAll("[data-event-signup], [data-event-signup-page]").forEach((button) => {
        button.textContent = full ? "Join the waitlist" : "Sign up";
      });
    });
  }

  function showState(card, status, position) {
    const action = card.querySelector("[data-event-action]");
    if (!action) return;
    const button = action.querySelector("[data-event-signup]");
    if (button) button.remove();
    let badge = action.querySelector(".event-state");
    if (!badge) {
      badge = document.createElement("span");
      action.prepend(badge);
    }
    if (status === "confirmed") {
      badge.className = "event-state event-state-in";
      badge.textContent = "✓ You're in";
    } else {
      badge.className = "event-state event-state-wait";
      badge.textContent = position ? `Waitlist · #${position}` : "On the waitlist";
    }
  }

  function note(card, text, isError) {
    const el = card.querySelector("[data-event-note]");
    if (!el) return;
    el.hidden = !text;
    el.textContent = text || "";
    el.classList.toggle("is-error", Boolean(isError));
  }

  async function signUp(card, button) {
    if (!loggedIn()) {
      window.location.href = `/login?next=${encodeURIComponent(window.location.pathname + window.location.search)}`;
      return;
    }
    button.classList.add("is-disabled");
    button.setAttribute("aria-disabled", "true");
    note(card, "Signing you up…", false);
    await window.Plaza.touch(card);
    let response;
    try {
      response = await window.Plaza.postForm(card.dataset.signupUrl, {});
    } catch (err) {
      note(card, "Network problem; please try again.", true);
      button.classList.remove("is-disabled");
      return;
    }
    const data = await response.json().catch(() => null);
    if (response.ok && data) {
      showState(card, data.status, data.position);
      note(card, data.status === "confirmed" ? "See you there!" : "You'll be moved up automatically.", false);
      applySeats(data);
      return;
    }
    button.classList.remove("is-disabled");
    button.removeAttribute("aria-disabled");
    const error = data && data.error;
    if (error && error.code === "already_signed_up") {
      note(card, "", false);
      loadMine(card);
      return;
    }
    note(card, (error && error.message) || "Could not sign you up.", true);
  }

  // Cards rendered without the viewer (chat) ask for the viewer's own state.
  async function loadMine(card) {
    const response = await fetch(`/api/v1/events/${Number(card.dataset.eventId)}`, {
      credentials: "same-origin", headers: { Accept: "application/json" },
    });
    if (!response.ok) return;
    const data = await response.json().catch(() => null);
    if (!data) return;
    if (data.my_signup) showState(card, data.my_signup.status, data.my_signup.position);
  }

  function setUp(card) {
    if (card.dataset.eventReady) return;
    card.dataset.eventReady = "1";
    if (card.dataset.personal === "0" && loggedIn()) loadMine(card);
    const live = window.Plaza && window.Plaza.live;
    if (live && live.connected && card.dataset.liveRoom) live.emit("watch", { room: card.dataset.liveRoom });
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-event-signup]");
    if (!button) return;
    const card = button.closest("[data-event-card]");
    if (!card) return;
    event.preventDefault();
    if (button.getAttribute("aria-disabled") === "true") return;
    signUp(card, button);
  });

  const live = window.Plaza && window.Plaza.live;
  if (live) live.on("event_seats", applySeats);

  document.querySelectorAll("[data-event-card]").forEach(setUp);
  // Posts and chat messages arrive later (live replies, chat): set their cards up too.
  new MutationObserver((mutations) => {
    mutations.forEach((mutation) => mutation.addedNodes.forEach((node) => {
      if (node.nodeType !== 1) return;
      if (node.matches("[data-event-card]")) setUp(node);
      node.querySelectorAll("[data-event-card]").forEach(setUp);
    }));
  }).observe(document.body, { childList: true, subtree: true });

  window.PlazaEvents = { applySeats };
})();

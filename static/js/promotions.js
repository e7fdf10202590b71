/* Promotions: group-buy and snap-up widgets in posts, chat and pages.

   - Countdowns run on the server's clock: every snap widget carries the server's
     time when it was rendered (data-server-now); the offset is refined once with
     /api/v1/time (half the round trip), so a reader's wrong clock changes nothing.
   - Live state arrives on the widgets' /live rooms (shop.js watches every
     data-live-room="offer:..." element, also ones added later in chat):
     "snap_state" updates stock and state in place; "groupbuy_state" refetches the
     server-rendered body of the group-buy widget (trusted HTML); "team_state"
     updates team pages.
   - Actions use the JSON API with the page's CSRF token and an Idempotency-Key per
     click. User text is never built here: only numbers, fixed labels (textContent)
     and server-rendered fragments. */
(function () {
  "use strict";
  if (window.PlazaPromotions) return;

  const loggedIn = () => Boolean(document.body.dataset.userId);
  let offset = 0; // server time - client time, in ms
  let offsetFromServer = false;

  function serverNow() { return Date.now() + offset; }

  function learnOffset(iso) {
    const at = Date.parse(iso || "");
    if (!offsetFromServer && !Number.isNaN(at)) offset = at - Date.now();
  }

  async function syncClock() {
    try {
      const sent = Date.now();
      const response = await fetch("/api/v1/time", { headers: { Accept: "application/json" } });
      const received = Date.now();
      const data = await response.json();
      const at = Date.parse(data.now);
      if (!Number.isNaN(at)) {
        offset = at - (sent + received) / 2;
        offsetFromServer = true;
      }
    } catch (err) { /* keep the page's own server timestamp */ }
  }

  function key() {
    const bytes = new Uint8Array(12);
    window.crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  async function api(url, body) {
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "X-CSRFToken": window.Plaza.csrfToken(),
        "Idempotency-Key": key(),
      },
      body: JSON.stringify(body || {}),
    });
    const data = await response.json().catch(() => null);
    return { ok: response.ok, status: response.status, data };
  }

  function toLogin() {
    window.location.href = `/login?next=${encodeURIComponent(window.location.pathname + window.location.search)}`;
  }

  function note(widget, text, isError) {
    const el = widget.querySelector("[data-promo-note]");
    if (!el) return;
    el.hidden = !text;
    el.textContent = text || "";
    el.classList.toggle("is-error", Boolean(isError));
  }

  function span(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    const d = Math.floor(seconds / 86400), h = Math.floor((seconds % 86400) / 3600);
    const m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    if (d) return `${d}d ${h}h`;
    if (h) return `${h}h ${m}m`;
    if (m) return `${m}m ${String(s).padStart(2, "0")}s`;
    return `${s}s`;
  }

  // --- snap-ups ----------------------------------------------------------------

  const SNAP_LABELS = { upcoming: "Starts soon", live: "Snap it", sold_out: "Sold out", ended: "Ended" };

  function snapState(card) {
    const now = serverNow();
    const left = Number(card.dataset.stockLeft || 0);
    if (now >= Date.parse(card.dataset.endsAt)) return "ended";
    if (now < Date.parse(card.dataset.startsAt)) return "upcoming";
    return left > 0 ? "live" : "sold_out";
  }

  function renderSnap(card) {
    const state = snapState(card);
    const clock = card.querySelector("[data-snap-clock]");
    if (state !== card.dataset.state) {
      card.classList.remove(`snap-${card.dataset.state}`);
      card.classList.add(`snap-${state}`);
      card.dataset.state = state;
      const button = card.querySelector("[data-snap-buy]");
      if (button) {
        button.textContent = SNAP_LABELS[state];
        button.classList.toggle("is-disabled", state !== "live");
        if (state === "live") button.removeAttribute("aria-disabled");
        else button.setAttribute("aria-disabled", "true");
      }
    }
    if (clock) {
      let text;
      if (state === "upcoming") text = `Starts in ${span((Date.parse(card.dataset.startsAt) - serverNow()) / 1000)}`;
      else if (state === "live") text = `Ends in ${span((Date.parse(card.dataset.endsAt) - serverNow()) / 1000)}`;
      else text = state === "sold_out" ? "Sold out" : "Ended";
      if (clock.textContent !== text) clock.textContent = text;
    }
    const left = card.querySelector("[data-stock-left]");
    if (left && left.textContent !== card.dataset.stockLeft) left.textContent = card.dataset.stockLeft;
    const meter = card.querySelector("[data-stock-meter]");
    if (meter) meter.value = Number(card.dataset.stockLeft || 0);
  }

  function applySnap(data) {
    if (!data || data.id == null) return;
    document.querySelectorAll(`[data-snap="${Number(data.id)}"], [data-watch-snap="${Number(data.id)}"]`).forEach((el) => {
      el.dataset.stockLeft = String(Number(data.stock_left) || 0);
      if (data.ends_at) el.dataset.endsAt = data.ends_at;
      if (el.matches("[data-snap]")) renderSnap(el);
      el.querySelectorAll("[data-watch-left]").forEach((b) => { b.textContent = String(data.stock_left); });
      el.querySelectorAll("[data-watch-state]").forEach((b) => {
        b.textContent = { upcoming: "Upcoming", live: "Live", sold_out: "Sold out", ended: "Ended" }[data.state] || "";
      });
      el.querySelectorAll("[data-stock-meter]").forEach((m) => { m.value = Number(data.stock_left) || 0; });
    });
  }

  async function buySnap(card, button) {
    if (!loggedIn()) return toLogin();
    if (card.dataset.state !== "live" || button.dataset.busy) return;
    button.dataset.busy = "1";
    note(card, "Snapping…", false);
    await window.Plaza.touch(card);
    let result;
    try {
      result = await api(`/api/v1/snaps/${Number(card.dataset.snap)}/buy`, { quantity: 1 });
    } catch (err) {
      note(card, "Network problem; please try again.", true);
      delete button.dataset.busy;
      return;
    }
    delete button.dataset.busy;
    if (result.ok && result.data) {
      const minutes = Math.max(1, Math.round((Date.parse(result.data.expires_at) - Date.parse(result.data.created_at)) / 60000));
      note(card, "", false);
      const el = card.querySelector("[data-promo-note]");
      el.hidden = false;
      el.classList.remove("is-error");
      el.append(`Got it! Pay within ${minutes} min to keep it. `);
      const link = document.createElement("a");
      link.href = `/shop/orders/${Number(result.data.id)}`;
      link.textContent = "Pay now";
      el.append(link);
      return;
    }
    const error = result.data && result.data.error;
    if (error && error.code === "sold_out") { card.dataset.stockLeft = "0"; renderSnap(card); }
    note(card, (error && error.message) || "Could not buy it.", true);
  }

  // --- group-buys --------------------------------------------------------------

  const refreshing = new Map();

  function refreshGroupBuy(card, delay) {
    const id = card.dataset.groupbuy;
    clearTimeout(refreshing.get(card));
    refreshing.set(card, setTimeout(async () => {
      const response = await fetch(card.dataset.bodyUrl, { credentials: "same-origin", headers: { Accept: "text/html" } });
      if (!response.ok) return;
      const html = await response.text();  // trusted, server-rendered and autoescaped
      const body = card.querySelector("[data-groupbuy-body]");
      if (body && String(card.dataset.groupbuy) === String(id)) {
        body.innerHTML = html;
        card.dataset.personal = "1";
        card.dataset.refreshed = String(Number(card.dataset.refreshed || 0) + 1);
      }
    }, delay == null ? 150 : delay));
  }

  async function teamAction(card, url, busyText, doneText) {
    if (!loggedIn()) return toLogin();
    note(card, busyText, false);
    await window.Plaza.touch(card);
    let result;
    try {
      result = await api(url, {});
    } catch (err) {
      note(card, "Network problem; please try again.", true);
      return;
    }
    if (result.ok) {
      note(card, result.data && result.data.status === "succeeded" ? "Team complete! Everyone gets the group price." : doneText, false);
      refreshGroupBuy(card, 0);
      return;
    }
    const error = result.data && result.data.error;
    note(card, (error && error.message) || "That did not work.", true);
    refreshGroupBuy(card, 0);
  }

  function applyGroupBuy(data) {
    if (!data || data.id == null) return;
    document.querySelectorAll(`[data-groupbuy="${Number(data.id)}"]`).forEach((card) => {
      // A team settled: the body now says so; an older "started/joined" note would mislead.
      if (data.team && data.team.status !== "forming") note(card, "", false);
      refreshGroupBuy(card);
    });
    document.querySelectorAll(`[data-watch-groupbuy="${Number(data.id)}"] [data-live-refresh]`).forEach((el) => { el.hidden = false; });
  }

  const TEAM_TAGS = { forming: "Forming", succeeded: "Complete", failed: "Failed" };

  function applyTeam(data) {
    if (!data || data.id == null) return;
    document.querySelectorAll(`[data-team-page="${Number(data.id)}"]`).forEach((page) => {
      page.dataset.teamStatus = data.status;
      page.classList.remove("team-forming", "team-succeeded", "team-failed");
      page.classList.add(`team-${data.status}`);
      page.querySelectorAll("[data-team-members]").forEach((el) => { el.textContent = String(data.members); });
      page.querySelectorAll(".team-dot").forEach((dot, index) => dot.classList.toggle("is-on", index < Number(data.members)));
      page.querySelectorAll("[data-team-tag] .team-tag").forEach((tag) => {
        tag.className = `team-tag team-tag-${data.status}`;
        tag.textContent = TEAM_TAGS[data.status] || "";
      });
      const message = page.querySelector("[data-team-message]");
      if (message) {
        if (data.status === "succeeded") message.textContent = "This team is complete: every member gets the group price.";
        else if (data.status === "failed") message.textContent = "This team did not fill in time; its orders were cancelled.";
        else message.textContent = `${data.seats_left} more needed.`;
      }
      if (data.status !== "forming") page.querySelectorAll("[data-join-form], [data-team-clock]").forEach((el) => el.remove());
    });
  }

  // --- wiring ------------------------------------------------------------------

  function setUp(root) {
    root.querySelectorAll("[data-snap]").forEach((card) => {
      if (card.dataset.promoReady) return;
      card.dataset.promoReady = "1";
      learnOffset(card.dataset.serverNow);
      renderSnap(card);
    });
    root.querySelectorAll("[data-groupbuy]").forEach((card) => {
      if (card.dataset.promoReady) return;
      card.dataset.promoReady = "1";
      // Rendered for a whole chat room: ask for this reader's own view.
      if (card.dataset.personal === "0" && loggedIn()) refreshGroupBuy(card, 0);
    });
  }

  document.addEventListener("click", (event) => {
    const buy = event.target.closest("[data-snap-buy]");
    if (buy && buy.closest("[data-snap]")) {
      event.preventDefault();
      buySnap(buy.closest("[data-snap]"), buy);
      return;
    }
    const start = event.target.closest("[data-start-team]");
    if (start && start.closest("[data-groupbuy]")) {
      event.preventDefault();
      const card = start.closest("[data-groupbuy]");
      teamAction(card, `/api/v1/group-buys/${Number(card.dataset.groupbuy)}/teams`, "Starting your team…",
        "Your team is started: invite others to join.");
      return;
    }
    const join = event.target.closest("[data-join-team]");
    if (join && join.closest("[data-groupbuy]")) {
      event.preventDefault();
      teamAction(join.closest("[data-groupbuy]"), `/api/v1/teams/${Number(join.dataset.joinTeam)}/join`, "Joining…",
        "You're in! We'll tell you when the team is complete.");
      return;
    }
    const copy = event.target.closest("[data-copy-share]");
    if (copy) {
      const input = document.querySelector("[data-share-input]");
      if (input && navigator.clipboard) navigator.clipboard.writeText(input.value).then(() => { copy.textContent = "Copied"; }, () => {});
      else if (input) input.select();
    }
  });

  function start() {
    setUp(document);
    const live = window.Plaza && window.Plaza.live;
    if (live) {
      live.on("snap_state", applySnap);
      live.on("groupbuy_state", applyGroupBuy);
      live.on("team_state", applyTeam);
      // After a reconnect, what changed meanwhile was missed: refetch each group-buy body.
      let connectedBefore = false;
      live.on("connect", () => {
        if (connectedBefore) document.querySelectorAll("[data-groupbuy]").forEach((card) => refreshGroupBuy(card));
        connectedBefore = true;
      });
    }
    if (document.querySelector("[data-snap]")) syncClock();
    setInterval(() => document.querySelectorAll("[data-snap]").forEach(renderSnap), 1000);
    new MutationObserver((mutations) => {
      mutations.forEach((m) => m.addedNodes.forEach((node) => {
        if (node.nodeType !== 1) return;
        if (node.matches("[data-snap], [data-groupbuy]")) setUp(node.parentNode || document);
        else setUp(node);
      }));
    }).observe(document.body, { childList: true, subtree: true });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();

  window.PlazaPromotions = { serverNow, applySnap, applyGroupBuy, applyTeam };
})();

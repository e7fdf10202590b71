/* Dutch auctions, guessing games and "remind me" in posts, chat and pages.

   - The auction's price is the server's: each widget carries the server's time
     (data-server-now) and its next drop (data-next-drop-at); the countdown runs on that
     clock (PlazaPromotions.serverNow when present), and at each drop the state is
     refetched from /api/v1/auctions/ID. "auction_state" pushes on the widget's /live
     room (watched by shop.js) update price, units left and the last sale at once.
   - Guessing games show no amount before the close; a guess goes to the API and only
     the guesser sees its standing. "guess_state" pushes carry the count (and, once
     closed, the winner). The result chart loads Chart.js from static/vendor on demand.
   - Only numbers and fixed labels are written (textContent); never user text. */
(function () {
  "use strict";
  if (window.PlazaGames) return;

  const loggedIn = () => Boolean(document.body.dataset.userId);
  let offset = 0;
  const serverNow = () => (window.PlazaPromotions ? window.PlazaPromotions.serverNow() : Date.now() + offset);

  function money(cents, currency) {
    try {
      return new Intl.NumberFormat(document.documentElement.lang || "en", { style: "currency", currency }).format(Number(cents) / 100);
    } catch (err) { return (Number(cents) / 100).toFixed(2); }
  }

  function key() {
    const bytes = new Uint8Array(12);
    window.crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  async function post(url, body) {
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
    return { ok: response.ok, data };
  }

  function note(widget, text, isError) {
    const el = widget.querySelector("[data-promo-note]");
    if (!el) return;
    el.hidden = !text;
    el.textContent = text || "";
    el.classList.toggle("is-error", Boolean(isError));
  }

  function toLogin() {
    window.location.href = `/login?next=${encodeURIComponent(window.location.pathname)}`;
  }

  function span(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    const h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    if (h) return `${h}h ${m}m`;
    if (m) return `${m}m ${String(s).padStart(2, "0")}s`;
    return `${s}s`;
  }

  // --- auctions ----------------------------------------------------------------

  function applyAuction(data) {
    if (!data || data.id == null) return;
    document.querySelectorAll(`[data-auction="${Number(data.id)}"]`).forEach((card) => {
      const currency = card.dataset.currency || "USD";
      card.classList.remove(`auction-${card.dataset.state}`);
      card.dataset.state = data.state;
      card.classList.add(`auction-${data.state}`);
      card.dataset.nextDropAt = data.next_drop_at || "";
      card.dataset.startsAt = data.starts_at || card.dataset.startsAt;
      const price = card.querySelector("[data-auction-price]");
      if (price) price.textContent = money(data.price_cents, currency);
      const off = card.querySelector("[data-auction-off] .promo-off");
      const list = Number(card.dataset.listPrice || 0);
      if (off && list > 0) off.textContent = `−${Math.floor(((list - data.price_cents) * 100) / list)}%`;
      const left = card.querySelector("[data-units-left]");
      if (left) left.textContent = String(Number(data.units_left));
      const last = card.querySelector("[data-last-sale]");
      if (last) last.textContent = data.last_sale ? `Last sale: ${money(data.last_sale.price_cents, currency)}` : "No sale yet";
      const take = card.querySelector("[data-auction-take]");
      if (take) {
        take.classList.toggle("is-disabled", data.state !== "live");
        if (data.state === "live") take.removeAttribute("aria-disabled");
        else take.setAttribute("aria-disabled", "true");
      }
      card.dataset.refreshed = String(Number(card.dataset.refreshed || 0) + 1);
      tickAuction(card);
    });
  }

  const fetching = new Set();
  async function refreshAuction(card) {
    const id = Number(card.dataset.auction);
    if (fetching.has(id)) return;
    fetching.add(id);
    try {
      const response = await fetch(`/api/v1/auctions/${id}`, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (response.ok) applyAuction(await response.json());
    } catch (err) { /* the next tick tries again */ }
    setTimeout(() => fetching.delete(id), 500);
  }

  function tickAuction(card) {
    const clock = card.querySelector("[data-auction-clock]");
    const state = card.dataset.state;
    const now = serverNow();
    let text;
    if (state === "upcoming") {
      const starts = Date.parse(card.dataset.startsAt);
      if (now >= starts) { refreshAuction(card); return; }
      text = `Starts in ${span((starts - now) / 1000)}`;
    } else if (state === "live") {
      const drop = Date.parse(card.dataset.nextDropAt || "");
      if (Number.isNaN(drop)) text = "At the floor: last call";
      else if (now >= drop) { refreshAuction(card); return; }
      else text = `Next drop in ${span((drop - now) / 1000)}`;
    } else text = "Ended";
    if (clock && clock.textContent !== text) clock.textContent = text;
  }

  async function take(card) {
    if (!loggedIn()) return toLogin();
    if (card.dataset.state !== "live") return;
    note(card, "Taking it…", false);
    if (window.Plaza.touch) await window.Plaza.touch(card);
    let result;
    try { result = await post(`/api/v1/auctions/${Number(card.dataset.auction)}/take`, {}); } catch (err) {
      note(card, "Network problem; please try again.", true);
      return;
    }
    if (result.ok && result.data) {
      const el = card.querySelector("[data-promo-note]");
      note(card, "", false);
      el.hidden = false;
      el.append(`Yours at ${money(result.data.total_cents - (result.data.shipping_cents || 0), result.data.currency)}. `);
      const link = document.createElement("a");
      link.href = `/shop/orders/${Number(result.data.id)}`;
      link.textContent = "Pay now";
      el.append(link);
      refreshAuction(card);
      return;
    }
    const error = result.data && result.data.error;
    note(card, (error && error.message) || "Could not take it.", true);
    refreshAuction(card);
  }

  // --- guessing games ----------------------------------------------------------

  function applyGame(data) {
    if (!data || data.id == null) return;
    document.querySelectorAll(`[data-guess="${Number(data.id)}"]`).forEach((card) => {
      const count = card.querySelector("[data-guesses-count]");
      if (count) count.textContent = String(Number(data.guesses_count));
      card.dataset.endsAt = data.ends_at || card.dataset.endsAt;
      if (data.state === "closed" && card.dataset.state !== "closed") {
        card.dataset.state = "closed";
        card.querySelectorAll("[data-guess-form]").forEach((form) => form.remove());
        const clock = card.querySelector("[data-guess-clock]");
        if (clock) clock.textContent = "Closed";
        const result = document.createElement("p");
        result.className = "guess-result";
        result.textContent = data.winner
          ? `Winner: @${data.winner.username} with ${money(data.winner.amount_cents, card.dataset.currency || "USD")}`
          : "No guess was unique: nobody wins.";
        card.insertBefore(result, card.querySelector("[data-promo-note]"));
      }
    });
  }

  function tickGame(card) {
    if (card.dataset.state !== "open") return;
    const ends = Date.parse(card.dataset.endsAt);
    const clock = card.querySelector("[data-guess-clock]");
    const text = serverNow() >= ends ? "Closing…" : `Closes in ${span((ends - serverNow()) / 1000)}`;
    if (clock && clock.textContent !== text) clock.textContent = text;
  }

  function cents(text) {
    const clean = String(text || "").trim().replace(",", ".");
    if (!/^\d+(\.\d{1,2})?$/.test(clean)) return null;
    const [whole, part] = clean.split(".");
    return Number(whole) * 100 + Number((part || "").padEnd(2, "0"));
  }

  async function guess(card, form) {
    if (!loggedIn()) return toLogin();
    const amount = cents(form.querySelector("[data-guess-amount]").value);
    if (!amount) { note(card, "Type an amount like 1.23.", true); return; }
    if (window.Plaza.touch) await window.Plaza.touch(card);
    let result;
    try { result = await post(`/api/v1/guess-games/${Number(card.dataset.guess)}/guesses`, { amount_cents: amount }); } catch (err) {
      note(card, "Network problem; please try again.", true);
      return;
    }
    if (result.ok && result.data) {
      const d = result.data;
      note(card, `${d.unique_now ? "Unique right now" : "Not unique right now"} · ${Number(d.unique_below)} unique guesses below yours.`, false);
      const mine = card.querySelector("[data-guess-mine]");
      if (mine) {
        const item = document.createElement("li");
        item.textContent = `${(amount / 100).toFixed(2)}: ${d.unique_now ? "unique" : "not unique"}`;
        mine.append(item);
        mine.hidden = false;
      }
      form.reset();
      return;
    }
    const error = result.data && result.data.error;
    note(card, (error && error.message) || "That guess did not go through.", true);
  }

  function drawCharts(root) {
    const canvases = Array.from(root.querySelectorAll("canvas[data-guess-chart]:not([data-ready])"));
    if (!canvases.length) return;
    const draw = () => canvases.forEach((canvas) => {
      let series;
      try { series = JSON.parse(canvas.dataset.series || "{}"); } catch (err) { return; }
      const brand = getComputedStyle(document.documentElement).getPropertyValue("--brand").trim() || "#4f46e5";
      new window.Chart(canvas, {
        type: "bar",
        data: { labels: series.labels, datasets: [{ label: "Guesses up to this amount", data: series.counts, backgroundColor: brand }] },
        options: { animation: false, responsive: true, maintainAspectRatio: false, plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
      });
      canvas.dataset.ready = "true";
    });
    if (window.Chart) { draw(); return; }
    const script = document.createElement("script");
    script.src = "/static/vendor/chart.umd.min.js";
    script.onload = draw;
    document.head.append(script);
  }

  // --- wiring ------------------------------------------------------------------

  function setUp(root) {
    root.querySelectorAll("[data-auction], [data-guess]").forEach((card) => {
      if (card.dataset.gameReady) return;
      card.dataset.gameReady = "1";
      const at = Date.parse(card.dataset.serverNow || "");
      if (!Number.isNaN(at)) offset = at - Date.now();
    });
    drawCharts(root);
  }

  document.addEventListener("click", async (event) => {
    const button = event.target.closest("[data-auction-take]");
    if (button && button.closest("[data-auction]")) {
      event.preventDefault();
      take(button.closest("[data-auction]"));
      return;
    }
    const remind = event.target.closest("[data-remind]");
    if (remind) {
      event.preventDefault();
      if (!loggedIn()) return toLogin();
      const result = await post("/api/v1/reminders", { kind: remind.dataset.remind, id: Number(remind.dataset.remindId) });
      remind.textContent = result.ok ? "We'll remind you" : ((result.data && result.data.error && result.data.error.message) || "Could not set it");
      remind.disabled = true;
    }
  });

  document.addEventListener("submit", (event) => {
    const form = event.target.closest("[data-guess-form]");
    if (!form) return;
    event.preventDefault();
    guess(form.closest("[data-guess]"), form);
  });

  function start() {
    setUp(document);
    const live = window.Plaza && window.Plaza.live;
    if (live) {
      live.on("auction_state", applyAuction);
      live.on("guess_state", applyGame);
    }
    setInterval(() => {
      document.querySelectorAll("[data-auction]").forEach(tickAuction);
      document.querySelectorAll("[data-guess]").forEach(tickGame);
    }, 1000);
    new MutationObserver((mutations) => {
      mutations.forEach((m) => m.addedNodes.forEach((node) => { if (node.nodeType === 1) setUp(node.parentNode || document); }));
    }).observe(document.body, { childList: true, subtree: true });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();

  window.PlazaGames = { applyAuction, applyGame };
})();

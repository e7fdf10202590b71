/* Shop widgets: live stock on product cards, tiles and product pages.
   Elements carrying data-live-room="offer:product:ID" are watched by plaza.js on
   connect; this file updates them when the server pushes "offer_stock", and
   watches cards that appear later (chat messages, live replies). Text is set
   with textContent only. Loaded by every card, so it guards against running twice. */
(function () {
  "use strict";
  if (window.PlazaShop) return;
  const shop = (window.PlazaShop = {});

  function applyStock(data) {
    if (!data || data.kind !== "product") return;
    const room = `offer:product:${data.id}`;
    document.querySelectorAll(`[data-live-room="${room}"]`).forEach((card) => {
      // The server computed the state (shop_embed.service.stock_state): render it as sent.
      const stock = Number(data.stock) || 0;
      const soldOut = !!data.sold_out;
      card.dataset.stockState = String(data.state || "");
      const badge = card.querySelector("[data-stock-text]");
      if (badge) {
        badge.textContent = String(data.label || "");
        badge.dataset.stock = String(stock);
        badge.dataset.stockState = String(data.state || "");
        badge.classList.remove("stock-ok", "stock-low", "stock-out");
        badge.classList.add(`stock-${data.badge}`);
      }
      card.classList.toggle("is-sold-out", soldOut);
      card.querySelectorAll("[data-buy]").forEach((button) => {
        if (button.tagName === "A") {
          button.classList.toggle("is-disabled", soldOut);
          if (soldOut) button.setAttribute("aria-disabled", "true"); else button.removeAttribute("aria-disabled");
          if (button.classList.contains("product-card-buy")) button.textContent = soldOut ? "Sold out" : "Buy";
        } else {
          button.disabled = soldOut;
        }
      });
      const quantity = card.querySelector(".input-quantity");
      if (quantity && stock > 0) quantity.max = String(Math.min(stock, 99));
      card.classList.remove("stock-flash");
      void card.offsetWidth; // restart the highlight animation
      card.classList.add("stock-flash");
    });
  }
  shop.applyStock = applyStock;

  function start() {
    const live = window.Plaza && window.Plaza.live;
    if (!live) return;
    live.on("offer_stock", applyStock);
    // plaza.js already watches these rooms on connect; watching again (idempotent) with an
    // acknowledgement lets each card say when it is live (data-live-watching), after reconnects too.
    const watch = (el) => {
      if (!live.connected) return;
      live.emit("watch", { room: el.dataset.liveRoom }, (ack) => {
        if (ack && ack.ok) el.dataset.liveWatching = "1";
      });
    };
    const watchAll = () => document.querySelectorAll("[data-live-room^='offer:']").forEach(watch);
    live.on("connect", watchAll);
    live.on("disconnect", () => document.querySelectorAll("[data-live-watching]").forEach((el) => {
      delete el.dataset.liveWatching;
    }));
    if (live.connected) watchAll();
    new MutationObserver((mutations) => {
      mutations.forEach((m) => m.addedNodes.forEach((node) => {
        if (node.nodeType !== 1) return;
        if (node.matches("[data-live-room^='offer:']")) watch(node);
        node.querySelectorAll("[data-live-room^='offer:']").forEach(watch);
      }));
    }).observe(document.body, { childList: true, subtree: true });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();

/* The bell's page and a notification's "open" page. A GET never writes, so what they
   record is POSTed from here: the ids the list showed as new (they are then seen and the
   bell drops), and following an unread notification (its form, submitted at once). */
(function () {
  "use strict";

  const setBell = (n) => {
    const bell = document.querySelector("[data-bell-count]");
    if (!bell) return;
    bell.textContent = String(n);
    bell.classList.toggle("is-empty", !n);
  };

  const list = document.querySelector("[data-seen-url]");
  const shown = list ? [...list.querySelectorAll("[data-unread-id]")].map((li) => li.dataset.unreadId) : [];
  let seen = Promise.resolve();
  if (shown.length) {
    const body = new URLSearchParams(shown.map((id) => ["ids", id]));
    body.set("csrf_token", window.Plaza.csrfToken());
    seen = fetch(list.dataset.seenUrl, {
      method: "POST", body, credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": window.Plaza.csrfToken() },
    })
      .then((response) => (response.ok ? response.json() : null))
      .then((data) => {
        if (data) {
          setBell(data.unread);
          list.dataset.seen = "done";
        }
      })
      .catch(() => null);
  }
  // A click before the beacon answered waits for it, so the link goes straight through.
  if (list) {
    list.addEventListener("click", (event) => {
      const link = event.target.closest("a[href^='/notifications/']");
      if (!link || list.dataset.seen === "done" || !shown.length) return;
      if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
      event.preventDefault();
      seen.then(() => { window.location.href = link.href; });
    });
  }

  const open = document.querySelector("form[data-notification-open]");
  if (open) open.submit();
})();

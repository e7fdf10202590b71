/* Plaza's page behaviour. No inline scripts (CSP); user text is only ever
   inserted as server-sanitized HTML or as textContent. */
(function () {
  "use strict";

  const csrfToken = () => document.querySelector('meta[name="csrf-token"]')?.content || "";

  async function postForm(url, data, extraHeaders) {
    const body = new URLSearchParams(data);
    body.set("csrf_token", csrfToken());
    const response = await fetch(url, {
      method: "POST", body, credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRFToken": csrfToken(), ...(extraHeaders || {}) },
    });
    return response;
  }
  // The top nav is a <details>, open in the HTML so every link shows without script; on a
  // phone it is a Menu button: closed after load, closed again after a pick or a tap outside.
  document.documentElement.classList.add("js");
  const navmenu = document.querySelector("[data-navmenu]");
  if (navmenu) {
    const phone = window.matchMedia("(max-width: 640px)");
    const fit = () => { navmenu.open = !phone.matches; };
    fit();
    phone.addEventListener("change", fit);
    document.addEventListener("click", (event) => {
      if (phone.matches && navmenu.open && !event.target.closest("[data-navmenu] summary")) {
        if (!navmenu.contains(event.target) || event.target.closest("a")) navmenu.open = false;
      }
    });
  }
  window.Plaza = window.Plaza || {};
  window.Plaza.postForm = postForm;
  window.Plaza.csrfToken = csrfToken;

  // A widget acting in place (sign up, snap, join a team) first records the reader's
  // visit of its tracked /go/ link, as following the link would; never blocks the action.
  window.Plaza.touch = async (widget) => {
    const link = widget && widget.querySelector('a[href^="/go/"]');
    if (!link) return;
    try {
      // X-Plaza-Touch: the explicit signal the click policy counts (see attribution.service).
      await postForm(link.getAttribute("href"), {}, { "X-Plaza-Touch": "1" });
    } catch (err) { /* the action matters more than the credit */ }
  };

  // Composer: Write / Preview tabs; the preview is rendered and sanitized by the server.
  document.querySelectorAll("[data-composer]").forEach((composer) => {
    const textarea = composer.querySelector("textarea");
    const preview = composer.querySelector("[data-preview]");
    composer.querySelectorAll("[data-tab]").forEach((tab) => {
      tab.addEventListener("click", async () => {
        const showPreview = tab.dataset.tab === "preview";
        composer.querySelectorAll("[data-tab]").forEach((t) => {
          t.classList.toggle("is-active", t === tab);
          t.setAttribute("aria-selected", t === tab ? "true" : "false");
        });
        textarea.closest(".field").hidden = showPreview;
        preview.hidden = !showPreview;
        if (showPreview) {
          preview.textContent = "Rendering…";
          const response = await postForm("/preview", { body: textarea.value });
          const data = await response.json().catch(() => ({}));
          if (response.ok) preview.innerHTML = data.html || "<p class=\"muted\">Nothing to preview.</p>";
          else preview.textContent = (data.error && data.error.message) || "Preview failed.";
        }
      });
    });
  });

  // Likes without a page reload.
  document.addEventListener("submit", async (event) => {
    const form = event.target;
    if (form.matches("[data-confirm]") && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      return;
    }
    if (!form.matches("[data-like-form]")) return;
    event.preventDefault();
    const response = await postForm(form.action, {});
    if (!response.ok) return;
    const data = await response.json();
    const button = form.querySelector("button");
    button.classList.toggle("is-on", data.liked);
    button.setAttribute("aria-pressed", data.liked ? "true" : "false");
    form.querySelector("[data-like-count]").textContent = String(data.like_count);
  });

  // Reply to a specific post.
  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-reply-button]");
    if (!button) return;
    const replyTo = document.querySelector("[data-reply-to]");
    const label = document.querySelector("[data-replying-to]");
    const textarea = document.querySelector("#reply textarea");
    if (!replyTo || !textarea) return;
    replyTo.value = button.dataset.postId;
    label.hidden = false;
    label.textContent = `Replying to #${button.dataset.position} by ${button.dataset.author}`;
    if (!textarea.value.includes(`@${button.dataset.author}`)) textarea.value = `@${button.dataset.author} ` + textarea.value;
    textarea.focus();
    document.querySelector("#reply").scrollIntoView({ behavior: "smooth", block: "center" });
  });

  // Reading: tell the server how far down the thread the member has seen (the highest
  // post position that came into view), so lists show unread counts and the next visit
  // opens at the first unread post. One small POST per advance, at most once a second.
  const readUrl = document.body.dataset.readUrl;
  window.Plaza.observeRead = () => {};
  if (readUrl && "IntersectionObserver" in window) {
    let seen = 0, sent = 0, timer = null;
    const flush = async () => {
      timer = null;
      if (seen <= sent) return;
      const position = seen;
      const response = await postForm(readUrl, { position: String(position) }).catch(() => null);
      if (response && response.ok) {
        sent = Math.max(sent, position);
        document.body.dataset.readPosition = String(sent);
      }
    };
    const observer = new IntersectionObserver((entries) => {
      entries.forEach((entry) => {
        if (!entry.isIntersecting) return;
        seen = Math.max(seen, Number(entry.target.dataset.postPosition) || 0);
        observer.unobserve(entry.target);
      });
      if (seen > sent && !timer) timer = setTimeout(flush, sent ? 1000 : 200);
    });
    window.Plaza.observeRead = (el) => { if (el.dataset.postPosition) observer.observe(el); };
    document.querySelectorAll("[data-posts] [data-post-position]").forEach(window.Plaza.observeRead);
  }

  // Live updates: one /live connection per page; features listen on Plaza.live.
  // Pushes are at most once: after a reconnect the bell and an open thread are
  // checked against the server, since something may have happened meanwhile.
  if (window.io) {
    const live = window.io("/live", { transports: ["websocket", "polling"] });
    window.Plaza.live = live;
    const threadId = document.body.dataset.threadId;
    const bellCount = document.querySelector("[data-bell-count]");
    const setBell = (n) => {
      if (!bellCount) return;
      bellCount.textContent = String(n);
      bellCount.classList.toggle("is-empty", !n);
    };
    const note = document.querySelector("[data-live-note]");
    let replyCount = null; // the thread's replies as far as this page knows
    const fetchReplyCount = async () => {
      const response = await fetch(`/api/v1/threads/${threadId}?limit=1`, { credentials: "same-origin" }).catch(() => null);
      if (!response || !response.ok) return null;
      return (await response.json()).reply_count;
    };
    const resync = async () => {
      if (bellCount) {
        const response = await fetch("/notifications/", { credentials: "same-origin", headers: { Accept: "application/json" } })
          .catch(() => null);
        if (response && response.ok) setBell((await response.json()).unread);
      }
      if (threadId) {
        const count = await fetchReplyCount();
        if (count !== null && replyCount !== null && count > replyCount && note) note.hidden = false;
        if (count !== null) replyCount = Math.max(replyCount || 0, count);
      }
    };

    if (threadId) {
      fetchReplyCount().then((count) => { if (replyCount === null) replyCount = count; });
      window.Plaza.threadReplyCount = () => replyCount;
    }

    // Watch the page's rooms; body[data-live="ready"] marks that every watch was acknowledged.
    // After a reconnect, re-read what may have been missed (Redis pub/sub is at-most-once).
    let connectedBefore = false;
    live.on("connect", () => {
      const rooms = new Set();
      if (threadId) rooms.add(`thread:${threadId}`);
      document.querySelectorAll("[data-live-room]").forEach((el) => rooms.add(el.dataset.liveRoom));
      let pending = rooms.size;
      const done = () => { if (--pending <= 0) document.body.dataset.live = "ready"; };
      if (!pending) document.body.dataset.live = "ready";
      rooms.forEach((room) => live.emit("watch", { room }, done));
      if (connectedBefore) resync();
      connectedBefore = true;
    });
    live.on("disconnect", () => { delete document.body.dataset.live; });
    window.Plaza.watch = (room) => live.emit("watch", { room });
    live.on("notification", (data) => setBell(data.unread));
    live.on("notification_count", (data) => setBell(data.unread));
    live.on("logged_out", () => { live.disconnect(); });

    // A new reply in the open thread: fetch its server-rendered fragment.
    if (threadId) {
      const page = Number(document.body.dataset.page), pages = Number(document.body.dataset.pages);
      live.on("post_created", async (data) => {
        if (String(data.thread_id) !== threadId) return;
        replyCount = Math.max(replyCount || 0, data.position - 1);
        if (document.getElementById(`post-${data.post_id}`)) return;
        if (page !== pages) { if (note) note.hidden = false; return; }
        const response = await fetch(`/t/${threadId}/fragment/${data.post_id}`, { credentials: "same-origin" });
        if (!response.ok) return;
        const holder = document.createElement("div");
        holder.innerHTML = await response.text();
        const post = holder.firstElementChild;
        if (post && !document.getElementById(post.id)) {
          post.classList.add("is-new");
          // Two replies close together may come back out of order: keep id order.
          const list = document.querySelector("[data-posts]");
          const later = Array.from(list.querySelectorAll("[data-post-id]"))
            .find((el) => Number(el.dataset.postId) > data.post_id);
          list.insertBefore(post, later || null);
          window.Plaza.observeRead(post);
        }
      });
      note?.querySelector("[data-live-load]")?.addEventListener("click", () => {
        window.location.href = `/t/${threadId}?page=last`;
      });
    }
  }
})();

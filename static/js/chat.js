/* Plaza chat page: the /chat Socket.IO protocol (forum/chat/README.md).
   User text is only ever inserted as server-sanitized HTML (body_html) or as
   textContent. Messages are kept in id order and once per id; a seq jump or a
   reconnect resyncs from the last id seen, so nothing is lost when a server
   process restarts. */
(function () {
  "use strict";

  const root = document.querySelector("[data-chat]");
  if (!root || !window.io) return;

  const activeSlug = root.dataset.room;
  const me = Number(root.dataset.me);
  const isModerator = root.dataset.moderator === "true";
  const maxLength = Number(root.dataset.maxLength) || 2000;
  const timeZone = root.dataset.tz || undefined;
  const log = root.querySelector("[data-log]");
  const list = root.querySelector("[data-messages]");
  const form = root.querySelector("[data-composer]");
  const textarea = form.querySelector("textarea");
  const sendButton = form.querySelector("button[type=submit]");
  const errorLine = root.querySelector("[data-send-error]");
  const counter = root.querySelector("[data-count]");
  const typingLine = root.querySelector("[data-typing]");
  const mutedNote = root.querySelector("[data-muted-note]");
  const connStatus = root.querySelector("[data-conn-status]");
  const newBelow = root.querySelector("[data-new-below]");
  const onlineList = root.querySelector("[data-online]");
  const onlineEmpty = root.querySelector("[data-online-empty]");
  const onlineCount = root.querySelector("[data-online-count]");

  const timeFormat = safeFormat({ hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone });
  const dayFormat = safeFormat({ weekday: "long", month: "long", day: "2-digit", year: "numeric", timeZone });
  const dayKeyFormat = safeFormat({ year: "numeric", month: "2-digit", day: "2-digit", timeZone });

  function safeFormat(options) {
    try { return new Intl.DateTimeFormat(undefined, options); }
    catch (err) { delete options.timeZone; return new Intl.DateTimeFormat(undefined, options); }
  }

  // Per joined room: the last id and seq seen (resync points).
  const rooms = new Map();
  const ids = () => Array.from(list.querySelectorAll(".msg[data-id]"), (el) => Number(el.dataset.id));
  const allIds = ids();
  rooms.set(activeSlug, {
    lastId: Math.max(Number(root.dataset.lastId) || 0, allIds.length ? allIds[allIds.length - 1] : 0),
    lastSeq: Number(root.dataset.lastSeq) || 0,
  });
  document.querySelectorAll("[data-room-link][data-joined]").forEach((link) => {
    if (!rooms.has(link.dataset.roomLink)) rooms.set(link.dataset.roomLink, { lastId: null, lastSeq: null });
  });

  const socket = window.io("/chat", { transports: ["websocket", "polling"] });
  window.Plaza = window.Plaza || {};
  window.Plaza.chat = socket;

  // --- connection and resync ----------------------------------------------------------

  let everConnected = false;
  let loggedOut = false;
  function setStatus(text) {
    connStatus.hidden = !text;
    connStatus.textContent = text || "";
  }
  setStatus("Connecting…");

  socket.on("connect", () => {
    setStatus("");
    everConnected = true;
    rooms.forEach((_, slug) => joinRoom(slug));
  });
  socket.on("disconnect", (reason) => {
    if (loggedOut) return;
    setStatus(reason === "io server disconnect" ? "Disconnected" : "Reconnecting…");
    if (reason === "io server disconnect") setTimeout(() => { if (!loggedOut) socket.connect(); }, 3000);
  });
  socket.on("connect_error", (err) => {
    const code = err && err.data && err.data.code;
    if (code === "not_authenticated") { setStatus("Log in again to chat"); socket.disconnect(); disableComposer("Your session ended; log in again to chat."); }
    else setStatus(everConnected ? "Reconnecting…" : "Cannot reach chat; retrying…");
  });
  socket.on("logged_out", () => {
    loggedOut = true;
    socket.disconnect();
    setStatus("Logged out");
    disableComposer("You are logged out. Log in again to chat.");
  });

  function joinRoom(slug) {
    const state = rooms.get(slug) || { lastId: null, lastSeq: null };
    rooms.set(slug, state);
    const payload = { room: slug };
    if (slug === activeSlug) {
      payload.since = state.lastId || 0;
      const first = ids()[0];
      if (first) payload.check_from = first;
    }
    socket.emit("join", payload, (ack) => {
      if (!ack || ack.error) {
        if (slug === activeSlug && ack && ack.error) disableComposer(ack.error.message);
        return;
      }
      if (state.lastSeq === null) state.lastSeq = ack.last_seq;
      if (state.lastId === null) state.lastId = ack.last_id;
      if (slug === activeSlug) {
        setOnline(ack.online || []);
        applySync(ack);
        markRead(); // opening the room reads it (the page's GET writes nothing)
        if (ack.muted_until) showMuted(ack.muted_until); else clearMuted();
      } else {
        setUnread(slug, ack.unread || 0);
      }
      ensureSidebarEntry(slug, ack.room);
    });
  }

  function applySync(ack) {
    (ack.deleted || []).forEach(removeMessage);
    (ack.missed || []).forEach((m) => addMessage(m, { quiet: true }));
    const state = rooms.get(activeSlug);
    if (typeof ack.last_seq === "number") state.lastSeq = Math.max(state.lastSeq || 0, ack.last_seq);
    if (ack.more) resync(activeSlug);
    else if ((ack.missed || []).length) { scrollToBottomIfNear(true); markRead(); }
  }

  let syncing = false;
  function resync(slug) {
    if (slug !== activeSlug || syncing) return;
    syncing = true;
    const state = rooms.get(slug);
    socket.emit("sync", { room: slug, after: state.lastId || 0 }, (ack) => {
      syncing = false;
      if (ack && !ack.error) applySync(ack);
    });
  }

  // --- messages -------------------------------------------------------------------------

  socket.on("message", (m) => {
    const state = rooms.get(m.room);
    if (m.room !== activeSlug) {
      if (state) {
        state.lastId = Math.max(state.lastId || 0, m.id);
        state.lastSeq = Math.max(state.lastSeq || 0, m.seq);
      }
      if (m.author.id !== me) bumpUnread(m.room);
      return;
    }
    const gap = state && state.lastSeq !== null && m.seq > state.lastSeq + 1;
    addMessage(m, {});
    if (gap) resync(m.room); // a message went missing between processes: fetch it
  });

  socket.on("message_deleted", (data) => { if (data.room === activeSlug) removeMessage(data.id); });

  function addMessage(m, { quiet }) {
    const state = rooms.get(activeSlug);
    state.lastSeq = Math.max(state.lastSeq || 0, m.seq || 0);
    if (document.getElementById(`m-${m.id}`)) return; // already shown (live and resync overlap)
    state.lastId = Math.max(state.lastId || 0, m.id);
    const nearBottom = isNearBottom();
    const next = Array.from(list.querySelectorAll(".msg[data-id]")).find((el) => Number(el.dataset.id) > m.id);
    const previous = next ? previousMessage(next) : lastMessage();
    if (!next) maybeDayDivider(m, previous);
    const el = buildMessage(m, next ? null : previous);
    list.insertBefore(el, next || null);
    if (m.embeds && m.embeds.length) expandWidgets(m, el);
    if (quiet) return;
    if (m.author.id === me || nearBottom) scrollToBottom();
    else newBelow.hidden = false;
    if (m.author.id !== me) { markRead(); typingStopped(m.author.id); }
  }

  function previousMessage(el) {
    let node = el.previousElementSibling;
    while (node && !node.matches(".msg")) node = node.previousElementSibling;
    return node;
  }
  function lastMessage() {
    const all = list.querySelectorAll(".msg[data-id]");
    return all.length ? all[all.length - 1] : null;
  }

  function dayKey(date) { return dayKeyFormat.format(date); }

  function maybeDayDivider(m, previous) {
    const when = new Date(m.created_at);
    if (previous && dayKey(new Date(previous.dataset.created)) === dayKey(when)) return;
    const divider = document.createElement("div");
    divider.className = "day-divider";
    const label = document.createElement("span");
    label.textContent = dayFormat.format(when);
    divider.appendChild(label);
    list.appendChild(divider);
  }

  function buildMessage(m, previous) {
    const when = new Date(m.created_at);
    const followup = previous && Number(previous.dataset.authorId) === m.author.id &&
      when - new Date(previous.dataset.created) < 300000 && !previous.nextElementSibling;
    const el = document.createElement("article");
    el.className = "msg is-new" + (followup ? " is-followup" : "");
    el.id = `m-${m.id}`;
    el.dataset.id = String(m.id);
    el.dataset.seq = String(m.seq);
    el.dataset.authorId = String(m.author.id);
    el.dataset.author = m.author.username;
    el.dataset.created = m.created_at;
    if (m.author.id !== me && mentionsMe(m.body || "")) el.classList.add("is-mention");

    const gutter = document.createElement("div");
    gutter.className = "msg-gutter";
    const time = document.createElement("time");
    time.dateTime = m.created_at;
    time.textContent = timeFormat.format(when);
    if (followup) {
      time.className = "msg-time-side";
      gutter.appendChild(time);
    } else {
      const avatar = document.createElement("span");
      avatar.className = `avatar avatar-sm hue-${Number(m.author.hue) || 0}`;
      avatar.setAttribute("aria-hidden", "true");
      avatar.textContent = m.author.initials || m.author.username.slice(0, 2).toUpperCase();
      gutter.appendChild(avatar);
    }
    el.appendChild(gutter);

    const main = document.createElement("div");
    main.className = "msg-main";
    if (!followup) {
      const head = document.createElement("header");
      head.className = "msg-head";
      const author = window.Plaza.memberLink(m.author.username, "msg-author");
      time.className = "msg-time";
      head.append(author, " ", time);
      main.appendChild(head);
    }
    const body = document.createElement("div");
    body.className = "msg-body prose";
    body.innerHTML = m.body_html; // sanitized by the server (forum.markup)
    main.appendChild(body);
    if (m.author.id !== me && document.getElementById("flag-dialog")) {
      // Flag for the moderators: the shared dialog (moderation.js) takes the click.
      const flag = document.createElement("a");
      flag.className = "msg-flag chip";
      flag.href = `/mod/flag?target=message&target_id=${m.id}`;
      flag.dataset.flagTarget = "message";
      flag.dataset.flagId = String(m.id);
      flag.textContent = "⚑";
      flag.title = "Flag this message";
      flag.setAttribute("aria-label", "Flag this message");
      main.appendChild(flag);
    }
    el.appendChild(main);

    if (m.author.id === me || isModerator) {
      const actions = document.createElement("div");
      actions.className = "msg-actions";
      if (isModerator && m.author.id !== me) {
        const mute = document.createElement("button");
        mute.type = "button";
        mute.className = "msg-action";
        mute.dataset.muteAuthor = m.author.username;
        mute.textContent = "Mute";
        actions.appendChild(mute);
      }
      const del = document.createElement("form");
      del.dataset.deleteForm = "";
      del.dataset.confirm = "Delete this message for everyone?";
      const button = document.createElement("button");
      button.className = "msg-action msg-action-danger";
      button.textContent = "Delete";
      del.appendChild(button);
      actions.appendChild(del);
      el.appendChild(actions);
    }
    return el;
  }

  function mentionsMe(text) {
    const name = (root.dataset.meName || "").toLowerCase();
    if (!name) return false;
    return text.toLowerCase().split(/[^\w@-]+/).includes(`@${name}`);
  }

  // Widgets (offers, events) are rendered by the server for this viewer.
  async function expandWidgets(m, el) {
    const response = await fetch(`/chat/${encodeURIComponent(m.room)}/m/${m.id}`, { credentials: "same-origin" });
    if (!response.ok) return;
    const holder = document.createElement("div");
    holder.innerHTML = await response.text();
    const fresh = holder.querySelector(".msg-body");
    const current = el.querySelector(".msg-body");
    if (fresh && current && document.body.contains(el)) current.replaceWith(fresh);
  }

  function removeMessage(id) {
    const el = document.getElementById(`m-${id}`);
    if (!el) return;
    // The next message of the same author loses its header with this one gone: show it again.
    const next = el.nextElementSibling;
    el.remove();
    if (next && next.matches(".msg.is-followup")) {
      const prev = previousMessage(next);
      if (!prev || prev.dataset.authorId !== next.dataset.authorId) promoteFollowup(next);
    }
  }

  function promoteFollowup(el) {
    el.classList.remove("is-followup");
    const main = el.querySelector(".msg-main");
    if (!main || main.querySelector(".msg-head")) return;
    const head = document.createElement("header");
    head.className = "msg-head";
    const author = document.createElement("a");
    author.className = "msg-author";
    author.href = `/u/${encodeURIComponent(el.dataset.author || "")}`;
    author.textContent = el.dataset.author || "";
    const time = el.querySelector(".msg-time-side");
    if (time) { time.className = "msg-time"; head.append(author, " ", time); }
    main.prepend(head);
  }

  // --- scrolling ------------------------------------------------------------------------

  function isNearBottom() { return log.scrollHeight - log.scrollTop - log.clientHeight < 120; }
  function scrollToBottom() { log.scrollTop = log.scrollHeight; newBelow.hidden = true; }
  function scrollToBottomIfNear(force) { if (force || isNearBottom()) scrollToBottom(); }
  newBelow.addEventListener("click", () => { scrollToBottom(); markRead(); });
  log.addEventListener("scroll", () => { if (isNearBottom()) { newBelow.hidden = true; markRead(); } });

  const target = window.location.hash && document.querySelector(window.location.hash);
  if (target && target.matches(".msg")) { target.scrollIntoView({ block: "center" }); target.classList.add("is-target"); }
  else {
    const divider = list.querySelector("[data-unread-divider]");
    if (divider) divider.scrollIntoView({ block: "center" }); else scrollToBottom();
  }

  // --- earlier messages -------------------------------------------------------------------

  const earlier = root.querySelector("[data-earlier]");
  earlier?.addEventListener("click", async () => {
    earlier.disabled = true;
    const response = await fetch(`/chat/${encodeURIComponent(activeSlug)}/earlier?before=${encodeURIComponent(earlier.dataset.cursor)}`,
      { credentials: "same-origin" });
    earlier.disabled = false;
    if (!response.ok) return;
    const html = await response.text();
    const before = log.scrollHeight - log.scrollTop;
    const holder = document.createElement("div");
    holder.innerHTML = html;
    // Drop a day divider repeated at the seam.
    const firstDivider = list.querySelector(".day-divider");
    const incomingDays = holder.querySelectorAll(".day-divider");
    const lastIncoming = incomingDays[incomingDays.length - 1];
    if (firstDivider && lastIncoming && firstDivider.dataset.day === lastIncoming.dataset.day) firstDivider.remove();
    list.prepend(...Array.from(holder.children).filter((el) => !el.id || !document.getElementById(el.id)));
    log.scrollTop = log.scrollHeight - before;
    const cursor = response.headers.get("X-Next-Cursor");
    if (cursor) earlier.dataset.cursor = cursor;
    else {
      earlier.remove();
      const start = root.querySelector("[data-room-start]");
      if (start) start.hidden = false;
    }
  });

  // --- composing and sending ----------------------------------------------------------------

  function autosize() {
    textarea.style.height = "auto";
    textarea.style.height = Math.min(textarea.scrollHeight, 200) + "px";
  }

  function showError(message) {
    errorLine.textContent = message || "";
    errorLine.hidden = !message;
  }

  function updateCounter() {
    const n = textarea.value.length;
    counter.hidden = n < maxLength * 0.8;
    counter.textContent = `${n.toLocaleString()} / ${maxLength.toLocaleString()}`;
    counter.classList.toggle("is-over", n > maxLength);
  }

  let lastTypingSent = 0;
  textarea.addEventListener("input", () => {
    autosize();
    updateCounter();
    if (!errorLine.hidden && textarea.value.length <= maxLength) showError("");
    const now = Date.now();
    if (textarea.value.trim() && now - lastTypingSent > 3000 && socket.connected) {
      lastTypingSent = now;
      socket.emit("typing", { room: activeSlug });
    }
  });

  textarea.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  function newNonce() {
    if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID();
    return `${Date.now()}-${Math.random().toString(36).slice(2)}`;
  }

  let pending = null; // {body, nonce}: a resend after a lost ack reuses the nonce
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const body = textarea.value;
    if (!body.trim()) return;
    if (body.length > maxLength) {
      showError(`Messages can be at most ${maxLength.toLocaleString()} characters; this one has ${body.length.toLocaleString()}.`);
      return;
    }
    if (!socket.connected) { showError("Reconnecting… your message is kept; send it again in a moment."); return; }
    if (!pending || pending.body !== body) pending = { body, nonce: newNonce() };
    sendButton.disabled = true;
    socket.timeout(10000).emit("send", { room: activeSlug, body, nonce: pending.nonce }, (err, ack) => {
      sendButton.disabled = mutedNote && !mutedNote.hidden;
      if (err) { showError("Not sent yet: the server did not answer. Press Enter to retry."); return; }
      if (ack && ack.error) { showError(ack.error.message); if (ack.error.code === "muted") disableComposer(ack.error.message); return; }
      pending = null;
      textarea.value = "";
      autosize();
      updateCounter();
      showError("");
      lastTypingSent = 0;
    });
  });

  function disableComposer(message) {
    textarea.disabled = true;
    sendButton.disabled = true;
    if (mutedNote) { mutedNote.textContent = message; mutedNote.hidden = false; }
  }
  function enableComposer() {
    textarea.disabled = false;
    sendButton.disabled = false;
    if (mutedNote) mutedNote.hidden = true;
  }
  function showMuted(until) {
    disableComposer(`A moderator muted you in this room until ${timeFormat.format(new Date(until))}.`);
    const ms = new Date(until) - Date.now();
    if (ms > 0 && ms < 2 ** 31) setTimeout(() => { if (!loggedOut) enableComposer(); }, ms + 500);
  }
  function clearMuted() { if (textarea.disabled && !loggedOut) enableComposer(); }

  socket.on("muted", (data) => {
    if (data.room !== activeSlug || data.user.id !== me) return;
    if (data.until) showMuted(data.until); else clearMuted();
  });

  // --- typing -------------------------------------------------------------------------------

  const typing = new Map(); // user id -> {name, timer}
  function renderTyping() {
    const names = Array.from(typing.values(), (t) => t.name);
    if (!names.length) typingLine.textContent = "";
    else if (names.length === 1) typingLine.textContent = `${names[0]} is typing…`;
    else if (names.length === 2) typingLine.textContent = `${names[0]} and ${names[1]} are typing…`;
    else typingLine.textContent = "Several people are typing…";
  }
  function typingStopped(userId) {
    const entry = typing.get(userId);
    if (entry) { clearTimeout(entry.timer); typing.delete(userId); renderTyping(); }
  }
  socket.on("typing", (data) => {
    if (data.room !== activeSlug || data.user.id === me) return;
    typingStopped(data.user.id);
    typing.set(data.user.id, { name: data.user.username, timer: setTimeout(() => typingStopped(data.user.id), 5000) });
    renderTyping();
  });

  // --- presence -------------------------------------------------------------------------------

  function personItem(user) {
    const li = document.createElement("li");
    li.dataset.userId = String(user.id);
    const avatar = document.createElement("span");
    avatar.className = `avatar avatar-xs hue-${Number(user.hue) || 0}`;
    avatar.setAttribute("aria-hidden", "true");
    avatar.textContent = user.initials || "";
    li.append(avatar, window.Plaza.memberLink(user.username));
    return li;
  }
  function refreshOnlineCount() {
    const n = onlineList.children.length;
    onlineCount.textContent = `${n} online`;
    onlineEmpty.hidden = n > 0;
    document.querySelectorAll("[data-presence-dot]").forEach((dot) => {
      dot.classList.toggle("is-online", !!onlineList.querySelector(`[data-user-id="${dot.dataset.presenceDot}"]`));
    });
  }
  function setOnline(users) {
    onlineList.replaceChildren(...users.map(personItem));
    refreshOnlineCount();
  }
  socket.on("presence", (data) => {
    if (data.room !== activeSlug) return;
    const existing = onlineList.querySelector(`[data-user-id="${data.user.id}"]`);
    if (data.online && !existing) {
      const items = Array.from(onlineList.children);
      const after = items.find((li) => li.textContent.localeCompare(data.user.username) > 0);
      onlineList.insertBefore(personItem(data.user), after || null);
    } else if (!data.online && existing) existing.remove();
    if (!data.online) typingStopped(data.user.id);
    refreshOnlineCount();
  });

  // --- unread counts and the sidebar ---------------------------------------------------------

  function badgeFor(slug) {
    return document.querySelector(`[data-room-link="${CSS.escape(slug)}"] [data-unread]`);
  }
  function setUnread(slug, n) {
    const badge = badgeFor(slug);
    if (!badge) return;
    badge.dataset.count = String(n);
    badge.textContent = n > 99 ? "99+" : String(n);
    badge.classList.toggle("is-empty", !n);
  }
  function bumpUnread(slug) {
    const badge = badgeFor(slug);
    if (badge) setUnread(slug, (Number(badge.dataset.count || badge.textContent) || 0) + 1);
  }
  socket.on("read", (data) => { if (data.room !== activeSlug) setUnread(data.room, 0); });

  function ensureSidebarEntry(slug, room, joined = true) {
    if (!room || document.querySelector(`[data-room-link="${CSS.escape(slug)}"]`)) return;
    const group = document.querySelector(`[data-room-list="${room.kind}"]`);
    if (!group) return;
    const li = document.createElement("li");
    const a = document.createElement("a");
    a.className = "room-link";
    a.href = `/chat/${encodeURIComponent(slug)}`;
    a.dataset.roomLink = slug;
    if (joined) a.dataset.joined = "";
    const icon = document.createElement("span");
    icon.className = "room-icon" + (room.kind === "public" ? " room-hash" : room.kind === "private" ? " room-lock" : "");
    icon.textContent = room.kind === "public" ? "#" : room.kind === "private" ? "" : "@";
    const name = document.createElement("span");
    name.className = "room-name";
    name.textContent = room.name;
    const badge = document.createElement("span");
    badge.className = "unread is-empty";
    badge.dataset.unread = "";
    a.append(icon, name, badge);
    li.appendChild(a);
    group.appendChild(li);
    group.closest("[data-room-group]").hidden = false;
    group.closest("[data-room-group]").querySelector(".side-empty")?.remove();
  }

  socket.on("room_added", (data) => { if (!rooms.has(data.room)) joinRoom(data.room); });
  socket.on("room_created", (data) => ensureSidebarEntry(data.room, { kind: data.kind, name: data.name }, false));
  socket.on("room_removed", (data) => {
    rooms.delete(data.room);
    document.querySelector(`[data-room-link="${CSS.escape(data.room)}"]`)?.closest("li")?.remove();
    if (data.room === activeSlug) disableComposer("You are no longer a member of this room.");
  });

  // --- reading ------------------------------------------------------------------------------

  let readTimer = null;
  function markRead() {
    if (document.visibilityState !== "visible" || !isNearBottom()) return;
    clearTimeout(readTimer);
    readTimer = setTimeout(() => {
      const state = rooms.get(activeSlug);
      if (socket.connected && state.lastId) socket.emit("read", { room: activeSlug, id: state.lastId });
      list.querySelector("[data-unread-divider]")?.classList.add("is-seen");
    }, 800);
  }
  document.addEventListener("visibilitychange", markRead);

  // --- moderation and deleting ---------------------------------------------------------------

  list.addEventListener("submit", (event) => {
    const del = event.target.closest("[data-delete-form]");
    if (!del) return;
    event.preventDefault();
    event.stopImmediatePropagation();
    const msg = del.closest(".msg");
    const id = Number(msg.dataset.id);
    const payload = { id };
    if (Number(msg.dataset.authorId) !== me) {
      // A moderator removing someone else's message says why (the audit log keeps it).
      const reason = window.prompt("Why delete this message? (the audit log keeps it)", "");
      if (!reason || !reason.trim()) return;
      payload.reason = reason.trim();
    } else if (!window.confirm(del.dataset.confirm || "Delete this message?")) return;
    socket.emit("delete", payload, (ack) => {
      if (ack && ack.error) showError(ack.error.message);
      else removeMessage(id);
    });
  }, true);

  const muteForm = root.querySelector("[data-mute-form]");
  list.addEventListener("click", (event) => {
    const button = event.target.closest("[data-mute-author]");
    if (!button || !muteForm) return;
    if (muteForm.offsetParent === null) {
      // Narrow screens hide the room panel: ask here instead.
      const answer = window.prompt(`Mute ${button.dataset.muteAuthor} in this room for how many minutes?`, "10");
      const minutes = Number(answer);
      if (!answer || !Number.isInteger(minutes)) return;
      const reason = window.prompt("Why? (the member sees it; the audit log keeps it)", "");
      if (!reason || !reason.trim()) return;
      socket.emit("mute", { room: activeSlug, username: button.dataset.muteAuthor, minutes, reason: reason.trim() }, (ack) => {
        if (ack && ack.error) {
          const fields = ack.error.fields || {};
          showError((fields.minutes || fields.reason || [ack.error.message])[0]);
        }
        else showError("");
      });
      return;
    }
    muteForm.querySelector("input[name$=username]").value = button.dataset.muteAuthor;
    const minutes = muteForm.querySelector("input[name$=minutes]");
    minutes.focus();
    minutes.select();
    muteForm.scrollIntoView({ block: "nearest", behavior: "smooth" });
  });
  muteForm?.addEventListener("submit", (event) => {
    if (!socket.connected) return; // the form posts normally
    event.preventDefault();
    const status = muteForm.querySelector("[data-mute-status]");
    const username = muteForm.querySelector("input[name$=username]").value.trim();
    const minutes = Number(muteForm.querySelector("input[name$=minutes]").value);
    const reason = muteForm.querySelector("input[name$=reason]").value;
    socket.emit("mute", { room: activeSlug, username, minutes, reason }, (ack) => {
      if (ack && ack.error) {
        const fields = ack.error.fields || {};
        status.textContent = (fields.minutes || fields.username || fields.reason || [ack.error.message])[0];
        status.classList.add("is-error");
      } else {
        status.classList.remove("is-error");
        status.textContent = `${username} is muted until ${timeFormat.format(new Date(ack.until))}.`;
        muteForm.reset();
      }
    });
  });

  // --- heartbeat: keeps this socket counted as present (entries expire after ~90 s) ----------

  setInterval(() => {
    if (!socket.connected) return;
    socket.emit("heartbeat", {}, (ack) => {
      if (ack && ack.rejoin) rooms.forEach((_, slug) => joinRoom(slug));
    });
  }, 30000);

  autosize();
  updateCounter();
})();

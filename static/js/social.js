/* Reactions and bookmarks in place, the user card on hover or tap, and drafts
   autosaved while composing. Forms work without this script; user text is only
   set as textContent or a field's value. */
(function () {
  "use strict";
  const Plaza = window.Plaza || {};

  // Reactions and bookmarks: post the form, then redraw from the answer.
  document.addEventListener("submit", async (event) => {
    const form = event.target;
    if (!form.matches("[data-reaction-form], [data-bookmark-form]")) return;
    event.preventDefault();
    const data = Object.fromEntries(new FormData(form, event.submitter));
    const response = await Plaza.postForm(form.action, data);
    if (!response.ok) return;
    const answer = await response.json();
    if (form.matches("[data-bookmark-form]")) {
      const button = form.querySelector("button");
      button.classList.toggle("is-on", answer.bookmarked);
      button.setAttribute("aria-pressed", answer.bookmarked ? "true" : "false");
      button.textContent = answer.bookmarked ? button.dataset.on : button.dataset.off;
      return;
    }
    drawReactions(form.closest("[data-reactions]"), form.action, answer.reactions);
  });

  function drawReactions(box, action, reactions) {
    box.querySelectorAll("form:not(.reaction-menu)").forEach((f) => f.remove());
    const picker = box.querySelector(".reaction-picker");
    if (picker) picker.open = false;
    reactions.forEach((r) => {
      const form = document.createElement("form");
      form.method = "post"; form.action = action;
      form.className = "inline-form"; form.dataset.reactionForm = "";
      const button = document.createElement("button");
      button.className = "chip reaction" + (r.mine ? " is-on" : "");
      button.name = "reaction"; button.value = r.reaction; button.title = r.reaction;
      button.setAttribute("aria-pressed", r.mine ? "true" : "false");
      button.textContent = `${r.emoji} ${r.count}`;
      form.appendChild(button);
      box.insertBefore(form, picker);
    });
  }

  // A member's name as a link to their profile that shows the user card (what the
  // ``member_link`` macro writes), for names scripts add to a page (chat).
  Plaza.memberLink = (username, className) => {
    const link = document.createElement("a");
    if (className) link.className = className;
    const path = `/u/${encodeURIComponent(username)}`;
    link.href = path;
    link.dataset.userCard = `${path}/card`;
    link.setAttribute("aria-haspopup", "dialog");
    link.textContent = username;
    return link;
  };
  window.Plaza = Plaza;

  // The user card: shown after a short hover, on the first tap of a name, or when a
  // name gets keyboard focus. It is placed right after the name, so Tab goes on into
  // its Profile and Message links; Escape or leaving it closes it.
  let pop = null, timer = null, owner = null;
  const close = () => {
    if (pop) { pop.remove(); pop = null; }
    if (owner) { owner.setAttribute("aria-expanded", "false"); owner = null; }
  };
  async function showCard(link) {
    const response = await fetch(link.dataset.userCard, { credentials: "same-origin" });
    if (!response.ok) return;
    close();
    pop = document.createElement("div");
    pop.className = "user-card-pop";
    pop.setAttribute("role", "dialog");
    pop.setAttribute("aria-label", `About ${link.textContent.trim() || link.getAttribute("aria-label") || "this member"}`);
    pop.dataset.for = link.dataset.userCard;
    pop.innerHTML = await response.text(); // server-rendered, escaped by the template
    link.after(pop);
    owner = link;
    link.setAttribute("aria-expanded", "true");
    const rect = link.getBoundingClientRect();
    const width = document.documentElement.clientWidth;
    pop.style.left = `${Math.max(8, Math.min(rect.left, width - pop.offsetWidth - 8))}px`;
    pop.style.top = `${rect.bottom + 6}px`;
    pop.addEventListener("mouseleave", close);
  }
  document.addEventListener("pointerover", (event) => {
    const link = event.target.closest && event.target.closest("[data-user-card]");
    if (!link || event.pointerType !== "mouse") return;
    clearTimeout(timer);
    timer = setTimeout(() => showCard(link), 350);
    link.addEventListener("mouseleave", () => clearTimeout(timer), { once: true });
  });
  document.addEventListener("focusin", (event) => {
    const link = event.target.closest && event.target.closest("[data-user-card]");
    if (link && link.matches(":focus-visible") && !(pop && pop.dataset.for === link.dataset.userCard)) {
      clearTimeout(timer);
      timer = setTimeout(() => { if (document.activeElement === link) showCard(link); }, 350);
    }
  });
  document.addEventListener("focusout", (event) => {
    const to = event.relatedTarget;
    if (pop && to && !pop.contains(to) && to !== owner) close();
  });
  document.addEventListener("click", (event) => {
    const link = event.target.closest("[data-user-card]");
    if (link && !(pop && pop.dataset.for === link.dataset.userCard) && matchMedia("(hover: none)").matches) {
      event.preventDefault(); // the first tap shows the card; its Profile link goes on
      showCard(link);
      return;
    }
    if (pop && !pop.contains(event.target)) close();
  });
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || !pop) return;
    const back = owner;
    close();
    if (back) back.focus();
  });
  window.addEventListener("scroll", () => { if (pop) close(); }, { passive: true });

  // Drafts: restored into an empty composer, saved a moment after typing stops.
  document.querySelectorAll("[data-draft-url]").forEach((composer) => {
    const textarea = composer.querySelector("textarea");
    const form = composer.closest("form");
    const title = form && form.querySelector('input[name="title"]');
    if (!textarea.value && composer.dataset.draftBody) textarea.value = composer.dataset.draftBody;
    if (title && !title.value && composer.dataset.draftTitle) title.value = composer.dataset.draftTitle;
    const status = document.createElement("span");
    status.className = "draft-status"; status.setAttribute("aria-live", "polite");
    composer.appendChild(status);
    // Posting ends the draft: a save still in flight is aborted, and one the server got
    // anyway carries opened_at, so it is refused (409 draft_posted) rather than bringing
    // the draft back after the post.
    let pending = null, posting = false, inflight = null;
    const save = async () => {
      pending = null;
      if (posting) return;
      const body = { body: textarea.value, opened_at: composer.dataset.draftOpened };
      if (title) body.title = title.value;
      if (inflight) inflight.abort();
      const mine = inflight = new AbortController();
      const response = await fetch(composer.dataset.draftUrl, {
        method: "PUT", credentials: "same-origin", body: JSON.stringify(body), signal: mine.signal,
        headers: { "Content-Type": "application/json", "X-CSRFToken": Plaza.csrfToken() },
      }).catch(() => null);
      if (inflight === mine) inflight = null;
      if (posting || mine.signal.aborted) return;
      if (response && response.status === 409) {
        status.textContent = "You posted here since this page was opened: reload to keep writing";
        return;
      }
      status.textContent = response && response.ok ? "Draft saved" : "Draft not saved";
    };
    const later = () => {
      if (posting) return;
      clearTimeout(pending); status.textContent = ""; pending = setTimeout(save, 800);
    };
    textarea.addEventListener("input", later);
    if (title) title.addEventListener("input", later);
    if (form) form.addEventListener("submit", () => {
      posting = true; clearTimeout(pending);
      if (inflight) inflight.abort();
    });
  });
})();

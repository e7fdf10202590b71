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

  // The user card: shown after a short hover, or on the first tap of a name.
  let pop = null, timer = null;
  const close = () => { if (pop) { pop.remove(); pop = null; } };
  async function showCard(link) {
    const response = await fetch(link.dataset.userCard, { credentials: "same-origin" });
    if (!response.ok) return;
    close();
    pop = document.createElement("div");
    pop.className = "user-card-pop";
    pop.innerHTML = await response.text(); // server-rendered, escaped by the template
    document.body.appendChild(pop);
    const rect = link.getBoundingClientRect();
    const left = Math.min(rect.left + window.scrollX, window.scrollX + document.documentElement.clientWidth - pop.offsetWidth - 8);
    pop.style.left = `${Math.max(8, left)}px`;
    pop.style.top = `${rect.bottom + window.scrollY + 6}px`;
    pop.addEventListener("mouseleave", close);
  }
  document.addEventListener("pointerover", (event) => {
    const link = event.target.closest && event.target.closest("[data-user-card]");
    if (!link || event.pointerType !== "mouse") return;
    clearTimeout(timer);
    timer = setTimeout(() => showCard(link), 350);
    link.addEventListener("mouseleave", () => clearTimeout(timer), { once: true });
  });
  document.addEventListener("click", (event) => {
    const link = event.target.closest("[data-user-card]");
    if (link && !(pop && pop.dataset.for === link.dataset.userCard) && matchMedia("(hover: none)").matches) {
      event.preventDefault(); // the first tap shows the card; its Profile link goes on
      showCard(link).then(() => { if (pop) pop.dataset.for = link.dataset.userCard; });
      return;
    }
    if (pop && !pop.contains(event.target)) close();
  });
  document.addEventListener("keydown", (event) => { if (event.key === "Escape") close(); });

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
    let pending = null, posting = false;
    const save = async () => {
      pending = null;
      const body = { body: textarea.value };
      if (title) body.title = title.value;
      const response = await fetch(composer.dataset.draftUrl, {
        method: "PUT", credentials: "same-origin", body: JSON.stringify(body),
        headers: { "Content-Type": "application/json", "X-CSRFToken": Plaza.csrfToken() },
      }).catch(() => null);
      if (!posting) status.textContent = response && response.ok ? "Draft saved" : "Draft not saved";
    };
    const later = () => { clearTimeout(pending); status.textContent = ""; pending = setTimeout(save, 800); };
    textarea.addEventListener("input", later);
    if (title) title.addEventListener("input", later);
    if (form) form.addEventListener("submit", () => { posting = true; clearTimeout(pending); });
  });
})();

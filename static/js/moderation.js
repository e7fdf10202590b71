// The flag dialog: a "Flag" link (data-flag-target, data-flag-id) opens one <dialog>
// with the flag form filled in for that item; without script the link opens the form page.
(function () {
  "use strict";
  const dialog = document.getElementById("flag-dialog");
  if (!dialog || typeof dialog.showModal !== "function") return;
  const form = dialog.querySelector("[data-flag-form]");
  const field = (name) => form.querySelector(`[data-flag-field="${name}"]`);

  document.addEventListener("click", (event) => {
    const link = event.target.closest("[data-flag-target]");
    if (!link) return;
    event.preventDefault();
    form.reset();
    field("target").value = link.dataset.flagTarget;
    field("target_id").value = link.dataset.flagId;
    field("next").value = window.location.pathname + window.location.search;
    dialog.showModal();
    const first = form.querySelector('input[name="reason"]');
    if (first) first.focus();
  });
  dialog.addEventListener("click", (event) => {
    if (event.target.closest("[data-flag-close]")) dialog.close();
  });
})();

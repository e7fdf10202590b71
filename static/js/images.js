/* Images while composing: paste, drop or pick one; it is uploaded through
   POST /api/v1/uploads and its Markdown goes in at the cursor. A click on a
   posted image (its stored thumbnail) opens it full size in a lightbox. No inline script (CSP). */
(function () {
  "use strict";

  const csrfToken = () => document.querySelector('meta[name="csrf-token"]')?.content || "";

  function insertAtCursor(area, text) {
    const start = area.selectionStart ?? area.value.length;
    const end = area.selectionEnd ?? start;
    const before = area.value.slice(0, start);
    const pad = before && !before.endsWith("\n") ? "\n" : "";
    area.value = before + pad + text + "\n" + area.value.slice(end);
    const at = (before + pad + text + "\n").length;
    area.setSelectionRange(at, at);
    area.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function say(holder, message, isError) {
    let line = holder.querySelector("[data-image-status]");
    if (!line) {
      line = document.createElement("p");
      line.className = "composer-image-status small";
      line.setAttribute("data-image-status", "");
      line.setAttribute("role", "status");
      holder.appendChild(line);
    }
    line.textContent = message;
    line.classList.toggle("field-error", Boolean(isError));
  }

  async function upload(file, area, holder) {
    if (!file || !file.type.startsWith("image/")) { say(holder, "That is not an image.", true); return; }
    const body = new FormData();
    body.append("image", file, file.name || "pasted-image");
    say(holder, "Uploading image…");
    let response;
    try {
      response = await fetch("/api/v1/uploads", {
        method: "POST", body, credentials: "same-origin",
        headers: { "Accept": "application/json", "X-CSRFToken": csrfToken() },
      });
    } catch (err) { say(holder, "The upload failed; check your connection.", true); return; }
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const error = data.error || {};
      const fields = error.fields && error.fields.image;
      say(holder, (fields && fields[0]) || error.message || "The upload failed.", true);
      return;
    }
    insertAtCursor(area, data.markdown);
    say(holder, "Image added.");
  }

  function wire(holder) {
    const area = holder.querySelector("textarea");
    if (!area || area.dataset.imagesWired) return;
    area.dataset.imagesWired = "1";
    const picker = document.createElement("input");
    picker.type = "file";
    picker.accept = "image/jpeg,image/png,image/webp,image/gif";
    picker.hidden = true;
    picker.setAttribute("data-image-picker", "");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "btn btn-small composer-image-button";
    button.textContent = "Add image";
    button.addEventListener("click", () => picker.click());
    picker.addEventListener("change", () => {
      Array.from(picker.files || []).forEach((file) => upload(file, area, holder));
      picker.value = "";
    });
    area.insertAdjacentElement("afterend", button);
    button.insertAdjacentElement("afterend", picker);
    area.addEventListener("paste", (event) => {
      const files = Array.from(event.clipboardData?.files || []).filter((f) => f.type.startsWith("image/"));
      if (!files.length) return;
      event.preventDefault();
      files.forEach((file) => upload(file, area, holder));
    });
    area.addEventListener("dragover", (event) => {
      if (Array.from(event.dataTransfer?.types || []).includes("Files")) event.preventDefault();
    });
    area.addEventListener("drop", (event) => {
      const files = Array.from(event.dataTransfer?.files || []).filter((f) => f.type.startsWith("image/"));
      if (!files.length) return;
      event.preventDefault();
      files.forEach((file) => upload(file, area, holder));
    });
  }

  function lightbox() {
    let dialog = document.querySelector("dialog.lightbox");
    if (!dialog) {
      dialog = document.createElement("dialog");
      dialog.className = "lightbox";
      const img = document.createElement("img");
      img.alt = "";
      dialog.appendChild(img);
      dialog.addEventListener("click", () => dialog.close());
      document.body.appendChild(dialog);
    }
    return dialog;
  }

  function show(src, alt) {
    const dialog = lightbox();
    const big = dialog.querySelector("img");
    big.src = src;
    big.alt = alt || "";
    dialog.showModal();
  }

  document.addEventListener("click", (event) => {
    if (!event.target.closest) return;
    // A posted picture: its thumbnail in a link to the full size (which works without script).
    const link = event.target.closest("a[data-lightbox]");
    if (link) {
      if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) return;
      event.preventDefault();
      show(link.getAttribute("href"), link.querySelector("img")?.alt);
      return;
    }
    const img = event.target.closest('.prose img[src^="/media/"]');  // posts rendered before thumbnails
    if (!img || img.closest("a")) return;
    show(img.getAttribute("src"), img.alt);
  });

  function wireAll() {
    if (!csrfToken()) return;
    document.querySelectorAll("[data-composer]").forEach(wire);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", wireAll);
  else wireAll();
})();

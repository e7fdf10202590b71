/* Campaign pages: the segment form's live count and sample, the SMS part counter, the report chart. */
(function () {
  "use strict";
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  function coerce(text) {
    text = (text || "").trim();
    if (text.indexOf(",") >= 0) {
      return text.split(",").filter(function (p) { return p.trim(); }).map(coerce);
    }
    if (/^(true|yes)$/i.test(text)) return true;
    if (/^(false|no)$/i.test(text)) return false;
    if (/^-?\d{1,11}$/.test(text)) return parseInt(text, 10);
    return text;
  }

  function ruleOf(form) {
    var json = form.querySelector("[name=rule_json]");
    if (json && json.value.trim()) {
      try { return JSON.parse(json.value); } catch (err) { return null; }
    }
    var conds = [];
    for (var i = 0; ; i++) {
      var field = form.querySelector("[name=c" + i + "_field]");
      if (!field) break;
      if (!field.value) continue;
      var op = form.querySelector("[name=c" + i + "_op]").value;
      var value = coerce(form.querySelector("[name=c" + i + "_value]").value);
      if (op === "in" && !Array.isArray(value)) value = [value];
      var cond = { field: field.value, op: op, value: value };
      var days = form.querySelector("[name=c" + i + "_days]").value;
      if (days) cond.days = parseInt(days, 10);
      conds.push(cond);
    }
    if (!conds.length) return null;
    var rule = {};
    rule[form.querySelector("[name=match]").value] = conds;
    return rule;
  }

  var segmentForm = document.querySelector("[data-segment-form]");
  if (segmentForm) {
    var countEl = segmentForm.querySelector("[data-segment-count]");
    var sampleEl = segmentForm.querySelector("[data-segment-sample]");
    var timer = null;
    var refresh = function () {
      var rule = ruleOf(segmentForm);
      if (!rule) { countEl.textContent = "—"; sampleEl.textContent = ""; return; }
      fetch(segmentForm.getAttribute("data-preview-url"), {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
        body: JSON.stringify({ rule: rule })
      }).then(function (r) { return r.json().then(function (b) { return [r.ok, b]; }); })
        .then(function (res) {
          if (res[0]) {
            countEl.textContent = res[1].member_count.toLocaleString();
            sampleEl.textContent = res[1].sample.length ? "e.g. " + res[1].sample.join(", ") : "";
          } else {
            countEl.textContent = "?";
            var fields = (res[1].error && res[1].error.fields) || {};
            var first = Object.keys(fields)[0];
            sampleEl.textContent = first ? first + ": " + fields[first][0] : res[1].error.message;
          }
          countEl.setAttribute("data-ready", "true");
        });
    };
    var later = function () { clearTimeout(timer); timer = setTimeout(refresh, 250); };
    segmentForm.addEventListener("input", later);
    segmentForm.addEventListener("change", later);
    refresh();
  }

  var GSM = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  var GSM_EXT = "^{}\\[~]|€\f";
  function smsParts(text) {
    var gsm = true, units = 0;
    for (var i = 0; i < text.length; i++) {
      var ch = text[i];
      if (GSM_EXT.indexOf(ch) >= 0) units += 2;
      else if (GSM.indexOf(ch) >= 0) units += 1;
      else { gsm = false; break; }
    }
    if (!gsm) units = text.length;
    var single = gsm ? 160 : 70, multi = gsm ? 153 : 67;
    var parts = units <= single ? (units ? 1 : 0) : Math.ceil(units / multi);
    return units + " characters, " + (gsm ? "GSM-7" : "UCS-2") + ": " + parts + " SMS part(s)";
  }
  var campaignForm = document.querySelector("[data-campaign-form]");
  if (campaignForm) {
    var body = campaignForm.querySelector("[name=body]");
    var channel = campaignForm.querySelector("[name=channel]");
    var out = campaignForm.querySelector("[data-sms-count]");
    var show = function () { out.textContent = channel.value === "sms" ? smsParts(body.value) : ""; };
    body.addEventListener("input", show);
    channel.addEventListener("change", show);
    show();
  }

  var canvas = document.getElementById("campaign-chart");
  if (canvas && typeof window.Chart !== "undefined") {
    var series = [];
    try { series = JSON.parse(canvas.getAttribute("data-series") || "[]"); } catch (err) { series = []; }
    new window.Chart(canvas, {
      data: {
        labels: series.map(function (d) { return d.day; }),
        datasets: [
          { type: "bar", label: "Sent", data: series.map(function (d) { return d.sent; }), backgroundColor: "rgba(79, 70, 229, 0.25)", yAxisID: "msgs" },
          { type: "bar", label: "Clicked", data: series.map(function (d) { return d.clicked; }), backgroundColor: "#4f46e5", yAxisID: "msgs" },
          { type: "line", label: "Orders", data: series.map(function (d) { return d.orders; }), borderColor: "#f97316", backgroundColor: "#f97316", yAxisID: "orders" }
        ]
      },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        plugins: { legend: { position: "bottom" } },
        scales: {
          msgs: { type: "linear", position: "left", beginAtZero: true, ticks: { precision: 0 } },
          orders: { type: "linear", position: "right", beginAtZero: true, grid: { drawOnChartArea: false }, ticks: { precision: 0 } }
        }
      }
    });
    canvas.setAttribute("data-ready", "true");
  }
})();

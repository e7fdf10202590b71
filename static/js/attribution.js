/* The daily funnel chart on the attribution report (data from the canvas's data-series). */
(function () {
  "use strict";
  var canvas = document.getElementById("attr-funnel-chart");
  if (!canvas || typeof window.Chart === "undefined") return;
  var series;
  try {
    series = JSON.parse(canvas.getAttribute("data-series") || "{}");
  } catch (err) {
    return;
  }
  if (!series.days) return;
  var labels = series.days.map(function (day) {
    var parts = day.split("-");
    return parts[1] + "/" + parts[2];
  });
  var styles = getComputedStyle(document.documentElement);
  var brand = styles.getPropertyValue("--brand").trim() || "#4f46e5";
  var accent = styles.getPropertyValue("--accent").trim() || "#f97316";
  var ok = styles.getPropertyValue("--ok").trim() || "#15803d";
  var chart = new window.Chart(canvas, {
    data: {
      labels: labels,
      datasets: [
        { type: "bar", label: "Impressions", data: series.impressions, backgroundColor: "rgba(79, 70, 229, 0.18)", yAxisID: "views", order: 3 },
        { type: "bar", label: "Clicks", data: series.clicks, backgroundColor: brand, yAxisID: "views", order: 2 },
        { type: "line", label: "Orders", data: series.orders, borderColor: accent, backgroundColor: accent, yAxisID: "conversions", tension: 0.3, pointRadius: 2, order: 1 },
        { type: "line", label: "Actions", data: series.actions, borderColor: ok, backgroundColor: ok, yAxisID: "conversions", tension: 0.3, pointRadius: 2, borderDash: [4, 3], order: 0 }
      ]
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      interaction: { mode: "index", intersect: false },
      plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } },
      scales: {
        views: { type: "linear", position: "left", beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: "views / clicks" } },
        conversions: { type: "linear", position: "right", beginAtZero: true, grid: { drawOnChartArea: false }, ticks: { precision: 0 }, title: { display: true, text: "orders / actions" } },
        x: { ticks: { maxRotation: 0, autoSkip: true, maxTicksLimit: 12 } }
      }
    }
  });
  canvas.setAttribute("data-ready", "true");
  window.PlazaAttributionChart = chart;
})();

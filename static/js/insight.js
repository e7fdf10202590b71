/* The community health charts: every canvas.ins-line / canvas.ins-bar draws its data-series
   ({labels, sets: [{label, data}]}); the table beside each chart holds the same figures. */
(function () {
  "use strict";
  if (typeof window.Chart === "undefined") return;
  var styles = getComputedStyle(document.documentElement);
  var colours = [
    styles.getPropertyValue("--brand").trim() || "#4f46e5",
    styles.getPropertyValue("--accent").trim() || "#f97316",
    styles.getPropertyValue("--ok").trim() || "#15803d"
  ];
  function shortDay(label) {
    var parts = String(label).split("-");
    return parts.length === 3 ? parts[1] + "/" + parts[2] : label;
  }
  document.querySelectorAll("canvas.ins-line, canvas.ins-bar").forEach(function (canvas) {
    var series;
    try {
      series = JSON.parse(canvas.getAttribute("data-series") || "{}");
    } catch (err) {
      return;
    }
    if (!series.labels || !series.sets) return;
    var line = canvas.classList.contains("ins-line");
    var horizontal = canvas.getAttribute("data-horizontal") === "true";
    var stacked = canvas.getAttribute("data-stacked") === "true";
    // Long category names (promotions, merchants) are cut to fit a phone's width.
    var room = canvas.parentNode.clientWidth < 520 ? 16 : 30;
    function fitted(value) {
      var label = String(this.getLabelForValue(value));
      return label.length > room ? label.slice(0, room - 1) + "\u2026" : label;
    }
    new window.Chart(canvas, {
      type: line ? "line" : "bar",
      data: {
        labels: horizontal ? series.labels : series.labels.map(shortDay),
        datasets: series.sets.map(function (set, index) {
          var colour = colours[index % colours.length];
          return { label: set.label, data: set.data, borderColor: colour, backgroundColor: colour, cubicInterpolationMode: "monotone", pointRadius: 2 };
        })
      },
      options: {
        indexAxis: horizontal ? "y" : "x",
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        plugins: { legend: { display: series.sets.length > 1, position: "bottom", labels: { boxWidth: 12 } } },
        scales: {
          x: { stacked: stacked, beginAtZero: true, ticks: { precision: 0, maxRotation: 0, autoSkip: true, maxTicksLimit: 10 } },
          y: { stacked: stacked, beginAtZero: true, ticks: horizontal ? { callback: fitted } : { precision: 0 } }
        }
      }
    });
    canvas.setAttribute("data-ready", "true");
  });
})();

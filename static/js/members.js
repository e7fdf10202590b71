/* The tier-moves chart on the VIP programme report (data from the canvas's data-series). */
(function () {
  "use strict";
  var canvas = document.getElementById("members-moves-chart");
  if (!canvas || typeof window.Chart === "undefined") return;
  var series = JSON.parse(canvas.getAttribute("data-series") || "[]");
  window.PlazaMembersChart = new window.Chart(canvas, {
    type: "bar",
    data: {
      labels: series.map(function (row) { return row.week; }),
      datasets: [
        { label: "Up a tier", data: series.map(function (row) { return row.up; }), backgroundColor: "#2f9e6b" },
        { label: "Down a tier", data: series.map(function (row) { return row.down; }), backgroundColor: "#c2410c" }
      ]
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      scales: { y: { beginAtZero: true, ticks: { precision: 0 } } }
    }
  });
})();

// Draws every <canvas data-chart="..."> with Chart.js (served from /static/vendor, installed from npm).
// The data is JSON in the attribute: {"labels": [...], "series": [{"label", "values", "axis"?}, ...]};
// data-chart-type is "bar" or "line". No inline script: the CSP allows only files from this site.
(function () {
  "use strict";
  var COLOURS = ["#1f5f8b", "#c2571a", "#2e7d4f", "#7b3f98", "#8a6d00"];

  function draw(canvas) {
    var spec = JSON.parse(canvas.getAttribute("data-chart"));
    var type = canvas.getAttribute("data-chart-type") || "bar";
    var twoAxes = spec.series.some(function (s) { return s.axis === "y1"; });
    var datasets = spec.series.map(function (s, i) {
      var colour = COLOURS[i % COLOURS.length];
      return {label: s.label, data: s.values, yAxisID: s.axis || "y", borderColor: colour,
              stepped: canvas.getAttribute("data-chart-stepped") === "1" ? "before" : false,
              backgroundColor: type === "bar" ? colour : colour + "33", pointRadius: 0, tension: 0.2,
              spanGaps: true};
    });
    var stacked = canvas.getAttribute("data-chart-stacked") === "1";
    var scales = {x: {stacked: stacked}, y: {beginAtZero: true, stacked: stacked}};
    var max = canvas.getAttribute("data-chart-max");
    if (max !== null) {
      scales.y.max = Number(max);
      scales.y.ticks = {stepSize: 1};
    }
    if (twoAxes) {
      scales.y1 = {beginAtZero: true, position: "right", grid: {drawOnChartArea: false}};
    }
    var chart = new window.Chart(canvas, {
      type: type,
      data: {labels: spec.labels, datasets: datasets},
      options: {responsive: true, maintainAspectRatio: false, animation: false, scales: scales,
                plugins: {legend: {display: datasets.length > 1}}}
    });
    canvas.setAttribute("data-drawn", "1");  // for the browser tests
    return chart;
  }

  function drawAll() {
    if (!window.Chart) { return; }
    document.querySelectorAll("canvas[data-chart]").forEach(draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();

// Draws every <canvas data-chart="..."> with Chart.js (served from /static/vendor, installed from npm).
// The data is JSON in the attribute: {"labels": [...], "series": [{"label", "values", "axis"?, "key"?, "keys"?}, ...]};
// data-chart-type is "bar" or "line". A series' colour is its "key"'s in palette.js (a stage, a contact
// kind), else the palette's next one; "keys" colours a bar series bar by bar.
// data-chart-x="dates": the labels are days (YYYY-MM-DD) and the x axis is time, days proportional:
// a linear axis over day numbers whose ticks are written as dates (Chart.js' own time axis would need
// a date library). data-chart-stepped="1": each value holds until the next one (a stage history);
// data-chart-colour-by="stage": the values are stages, each drawn in its stage's colour.
// No inline script: the CSP allows only files from this site.
(function () {
  "use strict";
  var DAY = 86400000;

  function palette() {
    return window.graphsvcPalette || {colour: function () { return "#0072B2"; }};
  }

  // Days since 1970-01-01 of an ISO date, and back (UTC: no time zone moves a day).
  function dayOf(iso) {
    var p = String(iso).split("-");
    return Date.UTC(Number(p[0]), Number(p[1]) - 1, Number(p[2])) / DAY;
  }
  function isoOf(day) {
    return new Date(Math.round(day) * DAY).toISOString().slice(0, 10);
  }

  // Tick days on whole years, months or days, at most about six of them between min and max.
  function dateTicks(min, max) {
    var span = max - min, ticks = [], d, step;
    if (span <= 62) {
      step = [1, 2, 7, 14, 31].find(function (s) { return span / s <= 6; });
      for (d = Math.ceil(min); d <= max; d += step) { ticks.push({value: d, unit: "day"}); }
      return ticks;
    }
    step = [1, 2, 3, 6, 12, 24, 60, 120].find(function (m) { return span / (30.44 * m) <= 6; }) || 120;
    var first = new Date(Math.ceil(min) * DAY);
    var y = first.getUTCFullYear(), m = first.getUTCMonth();
    if (first.getUTCDate() !== 1) { m += 1; }
    var index = y * 12 + m;
    index = Math.ceil(index / step) * step;  // on a multiple of the step: January for whole years
    for (; ; index += step) {
      d = Date.UTC(Math.floor(index / 12), index % 12, 1) / DAY;
      if (d > max) { break; }
      ticks.push({value: d, unit: step >= 12 ? "year" : "month"});
    }
    return ticks;
  }

  function tickLabel(day, unit) {
    var iso = isoOf(day);
    return unit === "year" ? iso.slice(0, 4) : unit === "month" ? iso.slice(0, 7) : iso;
  }

  function draw(canvas) {
    var spec = JSON.parse(canvas.getAttribute("data-chart"));
    var type = canvas.getAttribute("data-chart-type") || "bar";
    var dates = canvas.getAttribute("data-chart-x") === "dates";
    var stepped = canvas.getAttribute("data-chart-stepped") === "1";
    var byStage = canvas.getAttribute("data-chart-colour-by") === "stage";
    var twoAxes = spec.series.some(function (s) { return s.axis === "y1"; });
    var colour = palette().colour;
    var days = dates ? spec.labels.map(dayOf) : null;
    var datasets = spec.series.map(function (s, i) {
      var c = colour(s.key, i);
      var set = {label: s.label, yAxisID: s.axis || "y", borderColor: c,
                 data: dates ? s.values.map(function (v, j) { return {x: days[j], y: v}; }) : s.values,
                 // "before": a value holds from its day until the next point's day, then steps.
                 stepped: stepped ? "before" : false,
                 backgroundColor: type === "bar" ? c : c + "33", pointRadius: dates ? 3 : 0,
                 pointBackgroundColor: c, tension: stepped ? 0 : 0.2, spanGaps: true};
      if (s.keys) {
        set.backgroundColor = s.keys.map(function (k, j) { return colour(k, j); });
        set.borderColor = set.backgroundColor;
      }
      if (byStage) {  // a stage history: each step in the colour of the stage held
        var stage = function (v) { return colour("stage:" + v); };
        set.segment = {borderColor: function (ctx) { return stage(ctx.p0.parsed.y); }};
        set.pointBackgroundColor = set.pointBorderColor = s.values.map(stage);
        set.borderColor = stage(s.values[0]);
        set.borderWidth = 3;
      }
      return set;
    });
    var stacked = canvas.getAttribute("data-chart-stacked") === "1";
    var scales = {x: {stacked: stacked}, y: {beginAtZero: true, stacked: stacked}};
    if (dates) {
      var min = Math.min.apply(null, days), max = Math.max.apply(null, days);
      scales.x = {type: "linear", min: min, max: max > min ? max : min + 1,
                  afterBuildTicks: function (axis) {
                    axis.ticks = dateTicks(axis.min, axis.max);
                  },
                  ticks: {autoSkip: true, maxRotation: 0,
                          callback: function (value, i, ticks) { return tickLabel(value, (ticks[i] || {}).unit); }}};
    }
    var max = canvas.getAttribute("data-chart-max");
    if (max !== null) {
      scales.y.max = Number(max);
      scales.y.ticks = {stepSize: 1};
    }
    if (twoAxes) {
      scales.y1 = {beginAtZero: true, position: "right", grid: {drawOnChartArea: false}};
    }
    var plugins = {legend: {display: datasets.length > 1}};
    if (dates) {
      plugins.tooltip = {callbacks: {title: function (items) { return items.length ? isoOf(items[0].parsed.x) : ""; }}};
    }
    var chart = new window.Chart(canvas, {
      type: type,
      data: dates ? {datasets: datasets} : {labels: spec.labels, datasets: datasets},
      options: {responsive: true, maintainAspectRatio: false, animation: false, scales: scales, plugins: plugins}
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

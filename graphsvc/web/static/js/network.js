// Draws network pictures with Cytoscape.js (served from /static/vendor, installed from npm).
// <div class="network" data-network="{json}">: nodes with server-computed x, y; or
// <div class="network" data-network-src="/api/network">: fetched, then filtered by the page's form.
// The server lays the graph out (NetworkX); the browser only draws. No inline script (CSP).
(function () {
  "use strict";
  var ROLE_COLOURS = {referrer: "#1f5f8b", point_person: "#c2571a", past_point_person: "#e0a070",
                      tried: "#2e7d4f", introduced: "#7b3f98", contacted: "#8a8a8a",
                      clinician: "#c2571a", staff: "#7b3f98", provider: "#8a6d00", group: "#1f5f8b"};
  var STAGE_COLOURS = ["#9aa5b1", "#5b8db8", "#2e7d4f", "#1f5f8b"];

  function colourOf(n) {
    if ((n.kind === "referrer" || n.kind === "group") && n.stage !== undefined && n.stage !== null) {
      return STAGE_COLOURS[n.stage] || ROLE_COLOURS.referrer;
    }
    return ROLE_COLOURS[n.role || n.kind] || "#555";
  }

  // /api/network's positions are about -1..1 and its sizes 1..10 (square-root scaled); the ego
  // network's positions are pixels already (scale 1) and it has no sizes.
  function elementsOf(data, scale) {
    var nodes = data.nodes.map(function (n) {
      var member = n.kind === "clinician" || n.kind === "staff";
      var size = n.size === undefined ? (n.role === "referrer" ? 28 : 18) : (member || n.kind === "group" ? 10 + 3 * n.size : 4 + 1.5 * n.size);
      return {group: "nodes", classes: member || n.role || n.kind === "group" ? "labelled" : "",
              data: Object.assign({}, n, {colour: colourOf(n), size: size}),
              position: {x: n.x * scale, y: n.y * scale}};
    });
    var edges = data.edges.map(function (e) {
      return {group: "edges", data: Object.assign({}, e, {width: Math.min(8, 1 + Math.log2(1 + (e.weight || 1)))})};
    });
    return nodes.concat(edges);
  }

  function draw(container, data, scale) {
    var cy = window.cytoscape({
      container: container,
      elements: elementsOf(data, scale || 1),
      layout: {name: "preset", fit: true, padding: 20},
      style: [
        {selector: "node", style: {"background-color": "data(colour)", "width": "data(size)", "height": "data(size)",
                                   "font-size": 10, "text-valign": "bottom", "text-margin-y": 3, "color": "#222",
                                   "min-zoomed-font-size": 7}},
        {selector: "node.labelled, node.found", style: {"label": "data(label)"}},
        {selector: "edge", style: {"width": "data(width)", "line-color": "#b9c4cf", "curve-style": "haystack",
                                   "opacity": 0.7}},
        {selector: ".hidden", style: {"display": "none"}},
        {selector: ".found", style: {"border-width": 4, "border-color": "#d62828"}}
      ],
      minZoom: 0.05, maxZoom: 4
    });
    container.setAttribute("data-drawn", String(cy.nodes().length));  // for the browser tests
    cy.on("tap", "node", function (evt) {
      var n = evt.target.data();
      if (n.kind === "referrer" || n.role === "referrer") { window.location.href = "/referrers/" + encodeURIComponent(n.id); }
      else if (n.kind === "clinician" || n.kind === "staff" || ["point_person", "past_point_person", "tried", "introduced", "contacted"].indexOf(n.role) >= 0) {
        window.location.href = "/clinicians/" + encodeURIComponent(n.id);
      }
    });
    return cy;
  }

  function applyFilters(cy, form, status) {
    var f = new FormData(form);
    var stage = f.get("stage"), kind = f.get("kind"), pp = f.get("point_person");
    var from = f.get("from"), to = f.get("to"), q = (f.get("q") || "").trim().toLowerCase();
    var shown = 0;
    cy.batch(function () {
      cy.nodes().forEach(function (node) {
        var n = node.data();
        var isReferrer = n.kind === "referrer" || n.kind === "group";
        var keep = true;
        if (isReferrer) {
          if (stage !== "" && stage !== null && String(n.stage) !== stage) { keep = false; }
          if (kind && n.referrer_kind !== kind) { keep = false; }
          if (pp && n.point_person !== pp) { keep = false; }
          if (from && n.last_referral && n.last_referral < from) { keep = false; }
          if (to && n.first_referral && n.first_referral > to) { keep = false; }
        }
        node.toggleClass("hidden", !keep);
        node.toggleClass("found", q !== "" && String(n.label || "").toLowerCase().indexOf(q) >= 0);
        if (keep && isReferrer) { shown += 1; }
      });
    });
    var found = cy.nodes(".found");
    if (found.length) { cy.fit(found, 60); }
    if (status) {
      var groups = cy.nodes("[kind = 'group']").length > 0;
      var noun = groups ? (shown === 1 ? "group of referrers" : "groups of referrers") : (shown === 1 ? "referrer" : "referrers");
      status.textContent = shown + " " + noun + " shown" + (q ? ", " + found.length + " found" : "");
    }
  }

  function init() {
    if (!window.cytoscape) { return; }
    document.querySelectorAll("div.network[data-network]").forEach(function (el) {
      draw(el, JSON.parse(el.getAttribute("data-network")), Number(el.getAttribute("data-network-scale") || 1));
    });
    document.querySelectorAll("div.network[data-network-src]").forEach(function (el) {
      var status = document.getElementById(el.getAttribute("data-status") || "");
      fetch(el.getAttribute("data-network-src"), {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (answer) {
          if (!answer.ok) { throw new Error("the server answered " + answer.status); }
          return answer.json();
        })
        .then(function (data) {
          var cy = draw(el, data, 700);
          var form = document.getElementById(el.getAttribute("data-filters") || "");
          if (form) {
            form.addEventListener("submit", function (evt) { evt.preventDefault(); applyFilters(cy, form, status); });
            form.addEventListener("change", function () { applyFilters(cy, form, status); });
          }
          if (status) { status.textContent = data.nodes.length + " nodes, " + data.edges.length + " links" +
                                             (data.mode === "aggregate" ? " (referrers grouped by kind and stage)" : ""); }
        })
        .catch(function (error) {
          if (status) { status.textContent = "The network could not be loaded: " + error.message; }
        });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();

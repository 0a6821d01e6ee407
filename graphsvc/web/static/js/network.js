// Draws network pictures with Cytoscape.js (served from /static/vendor, installed from npm).
// <div class="network" data-network="{json}">: nodes with server-computed x, y; or
// <div class="network" data-network-src="/api/network">: fetched, then filtered by the page's form.
// The server lays the graph out (NetworkX); the browser only draws. No inline script (CSP).
(function () {
  "use strict";
  // Colours come from palette.js: a referrer (or group) its stage's, a member its role's (a
  // referrer's own picture) or its kind's; a kind the palette does not name (a console answer's
  // clients, referrals, ...) the palette's next colour no other node of the picture has.
  function keyOf(n) {
    if ((n.kind === "referrer" || n.kind === "group") && n.stage !== undefined && n.stage !== null) {
      return "stage:" + n.stage;
    }
    return n.role ? "role:" + n.role : "kind:" + n.kind;
  }

  function coloursOf(nodes) {
    var palette = window.graphsvcPalette, named = palette.named, used = {}, colours = {};
    var keys = nodes.map(keyOf);
    keys.forEach(function (k) {
      if (Object.prototype.hasOwnProperty.call(named, k)) { colours[k] = named[k]; used[named[k]] = true; }
    });
    keys.forEach(function (k) {
      if (!colours[k]) {
        colours[k] = palette.series.find(function (c) { return !used[c]; }) || palette.colours.grey;
        used[colours[k]] = true;
      }
    });
    return function (n) { return colours[keyOf(n)]; };
  }

  // /api/network's positions are about -1..1 and its sizes 1..10 (square-root scaled); the ego
  // network's positions are pixels already (scale 1) and it has no sizes. ``radial``: every node is
  // named, its label outward from the middle (0, 0), and along the line from it when there are
  // more than RING_LEVEL nodes (level, fewer names read more easily).
  var RING_LEVEL = 12;
  function elementsOf(data, scale, radial) {
    var colourOf = coloursOf(data.nodes);
    var rotate = data.nodes.length > RING_LEVEL;
    var nodes = data.nodes.map(function (n) {
      var member = n.kind === "clinician" || n.kind === "staff";
      var size = n.size === undefined ? (n.role === "referrer" ? 28 : 18) : (member || n.kind === "group" ? 10 + 3 * n.size : 4 + 1.5 * n.size);
      var classes = radial || member || n.role || n.kind === "group" ? ["labelled"] : [];
      var extra = {colour: colourOf(n), size: size};
      if (radial && (n.x !== 0 || n.y !== 0)) {
        var right = n.x >= 0;
        classes.push(right ? "label-right" : "label-left");
        extra.rotation = rotate ? Math.atan2(n.y, n.x) + (right ? 0 : Math.PI) : 0;  // never upside down
      }
      return {group: "nodes", classes: classes.join(" "),
              data: Object.assign({}, n, extra),
              position: {x: n.x * scale, y: n.y * scale}};
    });
    var edges = data.edges.map(function (e) {
      return {group: "edges", data: Object.assign({}, e, {width: Math.min(8, 1 + Math.log2(1 + (e.weight || 1)))})};
    });
    return nodes.concat(edges);
  }

  function draw(container, data, scale, radial) {
    var cy = window.cytoscape({
      container: container,
      elements: elementsOf(data, scale || 1, radial),
      layout: {name: "preset", fit: true, padding: 20},
      style: [
        {selector: "node", style: {"background-color": "data(colour)", "width": "data(size)", "height": "data(size)",
                                   "border-width": 1, "border-color": "#333333",
                                   "font-size": 10, "text-valign": "bottom", "text-margin-y": 3, "color": "#222",
                                   "min-zoomed-font-size": 7}},
        {selector: "node.labelled, node.found", style: {"label": "data(label)"}},
        {selector: "node.label-right", style: {"text-valign": "center", "text-halign": "right", "text-margin-y": 0,
                                               "text-margin-x": 4, "text-rotation": "data(rotation)"}},
        {selector: "node.label-left", style: {"text-valign": "center", "text-halign": "left", "text-margin-y": 0,
                                              "text-margin-x": -4, "text-rotation": "data(rotation)"}},
        {selector: "edge", style: {"width": "data(width)", "line-color": "#b9c4cf", "curve-style": "haystack",
                                   "opacity": 0.7}},
        {selector: "edge[?spoke]", style: {"opacity": 0.25}},  // a group's links to its point person: all of them
        {selector: ".hidden", style: {"display": "none"}},
        {selector: ".found", style: {"border-width": 4, "border-color": "#d62828"}}
      ],
      minZoom: 0.05, maxZoom: 4
    });
    // Names stay readable however far the picture is zoomed out (on a narrow screen, or the whole
    // practice fitted in one): at least 9 px high on the screen, so never below min-zoomed-font-size.
    var font = 10;
    function keepReadable() {
      var wanted = Math.max(10, Math.min(60, 9.5 / cy.zoom()));
      if (Math.abs(wanted - font) < 0.01) { return false; }
      font = wanted;
      cy.style().selector("node").style("font-size", font).update();
      return true;
    }
    // A round picture is fitted again with its longer names, until the size holds.
    for (var round = 0; keepReadable() && radial && round < 5; round += 1) { cy.fit(undefined, 20); }
    var pending = false;
    cy.on("zoom", function () {
      if (!pending) { pending = true; window.requestAnimationFrame(function () { pending = false; keepReadable(); }); }
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
      draw(el, JSON.parse(el.getAttribute("data-network")), Number(el.getAttribute("data-network-scale") || 1),
           el.getAttribute("data-network-radial") === "1");
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

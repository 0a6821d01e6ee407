// The one palette of every picture (charts.js, network.js, and the legends' swatches).
// Okabe and Ito's eight colours (https://jfly.uni-koeln.de/color/), told apart with every common
// colour-vision deficiency, and a grey. A picture never gives two of its series or kinds the same
// colour; a colour means one thing within a picture (a stage, a contact kind, a member's role).
// Loaded before charts.js and network.js; no inline script (the CSP allows only files from this site).
(function () {
  "use strict";
  var C = {black: "#000000", orange: "#E69F00", skyBlue: "#56B4E9", bluishGreen: "#009E73", yellow: "#F0E442",
           blue: "#0072B2", vermillion: "#D55E00", reddishPurple: "#CC79A7", grey: "#999999"};

  var NAMED = {
    // Stages: the same four colours on the dashboard, a referrer's stage chart and the network.
    "stage:0": C.grey, "stage:1": C.orange, "stage:2": C.skyBlue, "stage:3": C.bluishGreen,
    // The kinds of contact (graphsvc.vocabulary.CONTACT_KINDS): all eight tell apart in one chart.
    "contact:lunch": C.orange, "contact:talk": C.skyBlue, "contact:school_consult": C.bluishGreen,
    "contact:staffing": C.yellow, "contact:case_consult": C.blue, "contact:site_visit": C.vermillion,
    "contact:follow_up": C.reddishPurple, "contact:update_sent": C.grey,
    // The practice's nodes in the network pictures (referrers there take their stage's colour).
    "kind:clinician": C.vermillion, "kind:staff": C.reddishPurple, "kind:provider": C.black,
    // A referrer's own picture: each member by its role with the referrer, the referrer itself black.
    "role:referrer": C.black, "role:point_person": C.vermillion, "role:past_point_person": C.yellow,
    "role:tried": C.blue, "role:introduced": C.reddishPurple, "role:contacted": C.grey,
    // What is left over ("other" niches).
    "other": C.grey
  };
  // Series with no name of their own (a chart's niches, its two measures), in this order.
  var SERIES = [C.blue, C.orange, C.bluishGreen, C.vermillion, C.skyBlue, C.reddishPurple, C.yellow, C.black];

  function colour(key, index) {
    if (key && Object.prototype.hasOwnProperty.call(NAMED, key)) { return NAMED[key]; }
    return SERIES[(index || 0) % SERIES.length];
  }

  // <span class="key" data-key="stage:1">: its swatch takes the key's colour (a CSS variable set from
  // here: the CSP allows a script's styles, not a style attribute in the page).
  function paintKeys() {
    document.querySelectorAll(".key[data-key]").forEach(function (el) {
      el.style.setProperty("--key", colour(el.getAttribute("data-key")));
    });
  }

  window.graphsvcPalette = {colours: C, named: NAMED, series: SERIES, colour: colour};
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", paintKeys);
  } else {
    paintKeys();
  }
})();

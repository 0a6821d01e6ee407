// The header's search box (graphsvc.web.search): results as links under the box as one types.
// Without this script the box is a plain form: Enter opens /search?q=..., the same search as a page.
// It asks GET /api/search?q= (the data-api of the form) a moment after the last key, drops an answer
// that comes after the text changed again, and says how many matched in a live region. Arrow keys move
// between the box and the results, Escape closes them. No inline script: the CSP allows only this site's files.
(function () {
  "use strict";
  var WAIT_MS = 200;
  var KIND_WORDS = {referrer: "referrer", clinician: "clinician", staff: "staff", provider: "outside provider"};
  var form = document.querySelector("form.site-search");
  if (!form || !window.fetch) {
    return;
  }
  var input = form.querySelector("input[name=q]");
  var panel = form.querySelector(".search-panel");
  var list = panel.querySelector("ul");
  var note = panel.querySelector(".search-note");
  var status = form.querySelector(".search-status");
  var api = form.getAttribute("data-api");
  var timer = null;
  var pending = null;
  var asked = "";

  function close() {
    panel.hidden = true;
  }

  function open() {
    panel.hidden = false;
  }

  function say(text, results) {
    list.textContent = "";
    results.forEach(function (r) {
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = r.url;
      link.textContent = r.label;
      var what = document.createElement("span");
      what.className = "kind";
      what.textContent = " " + (KIND_WORDS[r.kind] || r.kind) + " · " + r.id;
      link.appendChild(what);
      item.appendChild(link);
      list.appendChild(item);
    });
    note.textContent = text;
    note.hidden = !text;
    open();
  }

  function ask() {
    var q = input.value.trim();
    if (q === asked) {
      return;
    }
    asked = q;
    if (pending) {
      pending.abort();
      pending = null;
    }
    if (!q) {
      list.textContent = "";
      note.textContent = "";
      status.textContent = "";
      close();
      return;
    }
    var controller = window.AbortController ? new AbortController() : null;
    pending = controller;
    fetch(api + "?q=" + encodeURIComponent(q), {credentials: "same-origin", headers: {Accept: "application/json"},
                                               signal: controller ? controller.signal : undefined})
      .then(function (answer) {
        if (!answer.ok) {
          throw new Error("search answered " + answer.status);
        }
        return answer.json();
      })
      .then(function (data) {
        if (input.value.trim() !== q) {
          return;  // the text changed meanwhile: its own answer follows
        }
        var n = data.results.length;
        status.textContent = n ? (n === 1 ? "1 match" : n + " matches") : "No match";
        say(n ? "" : "Nothing matches “" + q + "”.", data.results);
        form.setAttribute("data-answered", q);
      })
      .catch(function (error) {
        if (error && error.name === "AbortError") {
          return;
        }
        asked = "";
        status.textContent = "The search did not answer";
        say("The search did not answer; press Enter for the results page.", []);
      });
  }

  input.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(ask, WAIT_MS);
  });
  input.addEventListener("focus", function () {
    if (input.value.trim() && (list.children.length || note.textContent)) {
      open();
    }
  });
  input.addEventListener("keydown", function (event) {
    var first = list.querySelector("a");
    if (event.key === "ArrowDown" && first && !panel.hidden) {
      event.preventDefault();
      first.focus();
    } else if (event.key === "Escape" && !panel.hidden) {
      event.preventDefault();
      close();
    }
  });
  list.addEventListener("keydown", function (event) {
    var links = Array.prototype.slice.call(list.querySelectorAll("a"));
    var at = links.indexOf(document.activeElement);
    if (event.key === "ArrowDown" && at < links.length - 1) {
      event.preventDefault();
      links[at + 1].focus();
    } else if (event.key === "ArrowUp") {
      event.preventDefault();
      (at > 0 ? links[at - 1] : input).focus();
    } else if (event.key === "Escape") {
      event.preventDefault();
      close();
      input.focus();
    }
  });
  // A click on a result must not take the focus away first (which would close the list under it).
  panel.addEventListener("mousedown", function (event) {
    event.preventDefault();
  });
  form.addEventListener("focusout", function (event) {
    if (!event.relatedTarget || !form.contains(event.relatedTarget)) {
      close();
    }
  });
})();

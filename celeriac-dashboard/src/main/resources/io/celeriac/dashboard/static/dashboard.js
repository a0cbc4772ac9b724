// Celeriac dashboard: live updates by polling (no full reload), the chart, confirmations.
// Served as a file: the Content-Security-Policy allows no inline script.
(function () {
  "use strict";
  var live = document.getElementById("live");
  var updated = document.getElementById("updated");

  function busy() { // do not replace a form someone is filling in
    var a = document.activeElement;
    return a && live.contains(a) && (a.tagName === "INPUT" || a.tagName === "SELECT" || a.tagName === "TEXTAREA");
  }

  function refresh() {
    var url = live && live.getAttribute("data-live");
    if (!url || busy() || document.hidden) { return; }
    fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } }).then(function (r) {
      if (!r.ok) { throw new Error("HTTP " + r.status); }
      return r.text();
    }).then(function (html) {
      if (busy()) { return; }
      live.innerHTML = html; // built by the server with every value escaped
      if (updated) { updated.textContent = "updated " + new Date().toLocaleTimeString(); }
      document.dispatchEvent(new CustomEvent("celeriac:updated"));
    }).catch(function (e) {
      if (updated) { updated.textContent = "update failed (" + e.message + "), retrying"; }
    });
  }
  if (live && live.getAttribute("data-live")) { setInterval(refresh, 3000); }

  document.addEventListener("submit", function (ev) {
    var msg = ev.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) { ev.preventDefault(); }
  }, true);

  var box = document.getElementById("rates-chart");
  if (box && window.uPlot) {
    var plot = null;
    function draw() {
      fetch(box.getAttribute("data-src"), { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (d) {
        var data = [d.minutes, d.succeeded, d.failed];
        box.setAttribute("data-succeeded", d.succeeded.reduce(function (a, b) { return a + b; }, 0));
        box.setAttribute("data-failed", d.failed.reduce(function (a, b) { return a + b; }, 0));
        if (plot) { plot.setData(data); return; }
        plot = new uPlot({
          width: Math.max(260, box.clientWidth), height: 220,
          series: [{}, { label: "succeeded", stroke: "#2e8540", width: 2 }, { label: "failed", stroke: "#c0392b", width: 2 }],
          axes: [{}, { label: "per minute" }]
        }, data, box);
      }).catch(function () { /* the next round tries again */ });
    }
    draw();
    setInterval(draw, 15000);
    window.addEventListener("resize", function () { if (plot) { plot.setSize({ width: Math.max(260, box.clientWidth), height: 220 }); } });
  }
})();

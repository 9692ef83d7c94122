// Draw every Plotly figure on the page from its JSON (no inline scripts, no network fetches
// except the map boundaries and topojson, which this site serves itself).
(function () {
  "use strict";

  function draw(container) {
    var source = document.getElementById(container.getAttribute("data-figure"));
    if (!source || !window.Plotly) {
      return;
    }
    var figure = JSON.parse(source.textContent);
    var config = {
      // The mode bar's buttons cannot be reached by keyboard and need inline styles (blocked
      // by the CSP); every chart has a data table and a CSV download instead.
      displayModeBar: false,
      responsive: true,
      topojsonURL: "/static/topojson/",
    };
    window.Plotly.newPlot(container, figure.data || [], figure.layout || {}, config);
  }

  function drawAll() {
    var charts = document.querySelectorAll("[data-figure]");
    for (var i = 0; i < charts.length; i += 1) {
      draw(charts[i]);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();

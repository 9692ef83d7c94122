// Sortable data tables: each column header becomes a button (reachable by keyboard) that sorts
// the rows by that column; aria-sort tells screen readers the order. A table with data-chart
// also reorders the bars of that Plotly chart to match. Without JavaScript the table is
// simply shown in its original order.
(function () {
  "use strict";

  function cellValue(row, index) {
    var cell = row.children[index];
    var sortValue = cell.getAttribute("data-sort-value");
    if (sortValue !== null && sortValue !== "" && !isNaN(Number(sortValue))) {
      return Number(sortValue);
    }
    return cell.textContent.trim().toLowerCase();
  }

  function reorderChart(table, rows) {
    var chartId = table.getAttribute("data-chart");
    var chart = chartId && document.getElementById(chartId);
    if (!chart || !window.Plotly || !chart.data) {
      return;
    }
    var labelColumn = Number(table.getAttribute("data-label-column") || 0);
    var names = rows.map(function (row) {
      return row.children[labelColumn].textContent.trim();
    });
    window.Plotly.relayout(chart, { "yaxis.categoryorder": "array", "yaxis.categoryarray": names, "yaxis.autorange": "reversed" });
  }

  function sortBy(table, index, header) {
    var tbody = table.tBodies[0];
    var rows = Array.prototype.slice.call(tbody.rows);
    var ascending = header.getAttribute("aria-sort") !== "ascending";
    rows.sort(function (a, b) {
      var x = cellValue(a, index);
      var y = cellValue(b, index);
      if (x < y) { return ascending ? -1 : 1; }
      if (x > y) { return ascending ? 1 : -1; }
      return 0;
    });
    rows.forEach(function (row) { tbody.appendChild(row); });
    var headers = table.tHead.rows[0].cells;
    for (var i = 0; i < headers.length; i += 1) {
      headers[i].setAttribute("aria-sort", "none");
    }
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    reorderChart(table, rows);
  }

  function enhance(table) {
    var headers = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(headers, function (header, index) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "civic-sort-button";
      button.textContent = header.textContent;
      button.addEventListener("click", function () { sortBy(table, index, header); });
      header.textContent = "";
      header.appendChild(button);
    });
  }

  function init() {
    var tables = document.querySelectorAll("table.civic-sortable");
    for (var i = 0; i < tables.length; i += 1) {
      enhance(tables[i]);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();

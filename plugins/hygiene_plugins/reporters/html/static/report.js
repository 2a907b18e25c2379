"use strict";
// Sorting and filtering in the page. Without JavaScript every table is still there, in report order.
(function () {
  function cellValue(row, index, numeric) {
    var cell = row.children[index];
    // Cells without a number sort before every number.
    if (!cell) { return numeric ? -Number.MAX_VALUE : ""; }
    var raw = cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort") : cell.textContent;
    if (numeric) { var n = parseFloat(String(raw).replace(/,/g, "")); return Number.isFinite(n) ? n : -Number.MAX_VALUE; }
    return String(raw).trim().toLowerCase();
  }
  function makeSortable(table) {
    var headers = table.tHead ? table.tHead.rows[0].cells : [];
    Array.prototype.forEach.call(headers, function (th, index) {
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = th.textContent;
      th.textContent = "";
      th.appendChild(button);
      button.addEventListener("click", function () {
        var numeric = th.getAttribute("data-type") === "num";
        var descending = th.getAttribute("aria-sort") === "ascending";
        Array.prototype.forEach.call(headers, function (other) { other.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", descending ? "descending" : "ascending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.forEach(function (row, position) { row.dataset.position = position; });
        rows.sort(function (a, b) {
          var x = cellValue(a, index, numeric), y = cellValue(b, index, numeric);
          var order = x < y ? -1 : x > y ? 1 : a.dataset.position - b.dataset.position;
          return descending ? -order : order;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
  }
  function makeFilterable(form, table) {
    var rows = Array.prototype.slice.call(table.tBodies[0].rows).filter(function (row) { return row.hasAttribute("data-code"); });
    var count = form.querySelector("output");
    function apply() {
      var wanted = {};
      ["code", "severity", "owner", "team"].forEach(function (name) {
        var control = form.elements[name];
        if (control && control.value) { wanted[name] = control.value; }
      });
      var text = form.elements.text.value.trim().toLowerCase();
      var shown = 0;
      rows.forEach(function (row) {
        var visible = Object.keys(wanted).every(function (name) { return row.getAttribute("data-" + name) === wanted[name]; })
          && (!text || row.textContent.toLowerCase().indexOf(text) !== -1);
        row.hidden = !visible;
        if (visible) { shown += 1; }
      });
      count.textContent = shown + " of " + rows.length + " shown";
    }
    form.addEventListener("input", apply);
    form.addEventListener("change", apply);
    form.addEventListener("submit", function (event) { event.preventDefault(); });
    form.hidden = false;
    apply();
  }
  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), makeSortable);
  var form = document.getElementById("findings-filters");
  var table = document.getElementById("findings-table");
  if (form && table) { makeFilterable(form, table); }
})();

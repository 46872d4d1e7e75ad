// The criteria editor: rows of field / operator / value kept in the form's hidden JSON field.
// Without JavaScript the JSON field is edited directly; nested groups are edited as JSON too.
(function () {
  "use strict";
  var catalogue = JSON.parse(document.getElementById("criteria-catalogue").textContent);
  var editor = document.querySelector(".criteria-editor");
  var target = document.getElementById(editor.dataset.target);
  var rowsBox = editor.querySelector(".criteria-rows");
  var initial = {};
  try { initial = JSON.parse(target.value || "{}") || {}; } catch (e) { return; }  // leave bad JSON to the form's message
  // What marketers named comes as HTML options (escaped by the template), read as text.
  function options(select) {
    return select ? Array.prototype.map.call(select.options, function (o) { return [o.value, o.textContent]; }) : [];
  }
  var refs = { activity: catalogue.activity };
  document.querySelectorAll("select[data-ref]").forEach(function (s) { refs[s.dataset.ref] = options(s); });
  var statuses = {};
  document.querySelectorAll("select[data-statuses]").forEach(function (s) { statuses[s.dataset.statuses] = options(s).map(function (o) { return o[0]; }); });
  var fields = {};
  var fieldOptions = document.getElementById("criteria-field-options");
  Object.keys(catalogue.fields).forEach(function (name) { fields[name] = Object.assign({ name: name }, catalogue.fields[name]); });
  var NO_VALUE = ["is_empty", "is_not_empty", "is_true", "is_false"];

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function select(options, value, attrs) {
    var s = el("select", Object.assign({ "class": "form-select form-select-sm" }, attrs || {}));
    options.forEach(function (o) {
      var opt = el("option", { value: String(o[0]) }, o[1]);
      if (String(o[0]) === String(value)) opt.selected = true;
      s.appendChild(opt);
    });
    return s;
  }
  function fieldSelect(value) {
    var s = fieldOptions.cloneNode(true);
    s.removeAttribute("id"); s.removeAttribute("hidden"); s.removeAttribute("aria-hidden");
    s.className = "form-select form-select-sm";
    s.setAttribute("aria-label", "Field");
    s.style.flex = "0 0 16rem";
    s.value = value;
    return s;
  }

  function valueInputs(row, field, op, condition) {
    var box = row.querySelector(".criteria-value");
    box.innerHTML = "";
    if (NO_VALUE.indexOf(op) >= 0) return;
    var v = condition.value;
    var kind = field.kind;
    var input;
    if (kind === "number" && op === "between") {
      var pair = Array.isArray(v) ? v : ["", ""];
      box.appendChild(el("input", { type: "number", step: "any", "class": "form-control form-control-sm", "data-part": "low", "aria-label": "From", value: pair[0] }));
      box.appendChild(el("input", { type: "number", step: "any", "class": "form-control form-control-sm", "data-part": "high", "aria-label": "To", value: pair[1] }));
      return;
    }
    if (kind === "choice" || kind === "grade") {
      input = select(field.choices, v, { "data-part": "value", "aria-label": "Value" });
      if (op === "in") { input.multiple = true; Array.prototype.forEach.call(input.options, function (o) { o.selected = Array.isArray(v) && v.indexOf(o.value) >= 0; }); }
    } else if (refs[kind] && kind !== "activity") {
      input = select(refs[kind], v, { "data-part": "value", "aria-label": "Value" });
    } else if (kind === "activity") {
      input = select(refs.activity, v || "any", { "data-part": "value", "aria-label": "Activity type" });
    } else if (kind === "date" && op.indexOf("within_days") >= 0) {
      input = el("input", { type: "number", min: "0", "class": "form-control form-control-sm", "data-part": "value", "aria-label": "Days", placeholder: "days", value: v === undefined ? "" : v });
    } else if (kind === "date") {
      input = el("input", { type: "date", "class": "form-control form-control-sm", "data-part": "value", "aria-label": "Day", value: v || "" });
    } else if (kind === "number") {
      input = el("input", { type: "number", step: "any", "class": "form-control form-control-sm", "data-part": "value", "aria-label": "Value", value: v === undefined ? "" : v });
    } else {
      input = el("input", { type: "text", "class": "form-control form-control-sm", "data-part": "value", "aria-label": "Value", placeholder: op === "in" ? "a, b, c" : "", value: Array.isArray(v) ? v.join(", ") : (v === undefined ? "" : v) });
    }
    box.appendChild(input);
    if (kind === "sf_campaign") {
      var choices = (statuses[input.value] || []).map(function (s) { return [s, s]; });
      box.appendChild(select([["", "any status"]].concat(choices), condition.status || "", { "data-part": "status", "aria-label": "Member status" }));
      input.addEventListener("change", function () { valueInputs(row, field, op, { value: input.value }); });
    }
    if (kind === "activity") {
      box.appendChild(el("input", { type: "number", min: "0", "class": "form-control form-control-sm", "data-part": "days", "aria-label": "In the last days", placeholder: "in the last … days", value: condition.days === undefined || condition.days === null ? "" : condition.days }));
    }
  }

  function addRow(condition) {
    condition = condition || {};
    var row = el("div", { "class": "criteria-row d-flex gap-2 mb-2 align-items-center" });
    var fieldName = fields[condition.field] ? condition.field : "score";
    var fs = fieldSelect(fieldName);
    var opBox = el("div", { "class": "criteria-op" });
    var valueBox = el("div", { "class": "criteria-value d-flex gap-2 flex-grow-1" });
    var remove = el("button", { type: "button", "class": "btn btn-sm btn-outline-danger", "aria-label": "Remove condition", title: "Remove" });
    remove.innerHTML = '<i class="bi bi-x-lg"></i>';
    remove.addEventListener("click", function () { row.remove(); });
    row.appendChild(fs); row.appendChild(opBox); row.appendChild(valueBox); row.appendChild(remove);
    function drawOps(cond) {
      var field = fields[fs.value];
      var ops = catalogue.operators[field.kind];
      var opValue = ops[cond.op] ? cond.op : Object.keys(ops)[0];
      var os = select(Object.keys(ops).map(function (k) { return [k, ops[k]]; }), opValue, { "aria-label": "Operator" });
      os.style.minWidth = "11rem";
      opBox.innerHTML = ""; opBox.appendChild(os);
      os.addEventListener("change", function () { valueInputs(row, field, os.value, {}); });
      valueInputs(row, field, opValue, cond);
    }
    fs.addEventListener("change", function () { drawOps({}); });
    drawOps(condition);
    rowsBox.appendChild(row);
  }

  function readRow(row) {
    var field = fields[row.querySelector("select").value];
    var op = row.querySelector(".criteria-op select").value;
    var c = { field: field.name, op: op };
    var part = function (name) { return row.querySelector('[data-part="' + name + '"]'); };
    if (NO_VALUE.indexOf(op) >= 0) return c;
    if (op === "between") { c.value = [part("low").value, part("high").value]; return c; }
    var input = part("value");
    if (input.multiple) { c.value = Array.prototype.filter.call(input.options, function (o) { return o.selected; }).map(function (o) { return o.value; }); return c; }
    var v = input.value;
    if (["user", "queue", "campaign", "sf_campaign", "list"].indexOf(field.kind) >= 0 || (field.kind === "date" && op.indexOf("within_days") >= 0)) v = v === "" ? v : Number(v);
    else if (field.kind === "number") v = v === "" ? v : Number(v);
    else if (op === "in") v = v.split(",").map(function (s) { return s.trim(); }).filter(Boolean);
    c.value = v;
    if (part("status") && part("status").value) c.status = part("status").value;
    if (part("days") && part("days").value !== "") c.days = Number(part("days").value);
    return c;
  }

  var nested = (initial.conditions || []).some(function (c) { return c && c.conditions; });
  if (nested) {
    rowsBox.appendChild(el("p", { "class": "small text-secondary" }, "These criteria have nested groups: edit them as JSON below."));
    editor.parentNode.querySelector("details").open = true;
    return;
  }
  var matchSelect = select([["all", "Match all of these"], ["any", "Match any of these"]], initial.match || "all", { "aria-label": "Match" });
  matchSelect.classList.add("mb-2", "w-auto");
  editor.insertBefore(matchSelect, rowsBox);
  (initial.conditions || []).forEach(addRow);
  var add = el("button", { type: "button", "class": "btn btn-sm btn-outline-primary", "data-testid": "add-condition" });
  add.innerHTML = '<i class="bi bi-plus-lg me-1"></i>Add condition';
  add.addEventListener("click", function () { addRow({}); });
  editor.appendChild(add);
  target.readOnly = true;
  target.closest("form").addEventListener("submit", function () {
    var rows = rowsBox.querySelectorAll(".criteria-row");
    target.value = rows.length ? JSON.stringify({ match: matchSelect.value, conditions: Array.prototype.map.call(rows, readRow) }) : "{}";
  });
})();

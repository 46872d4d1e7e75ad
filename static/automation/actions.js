// The action-set editor: one row per action, kept in the form's JSON field. Without JavaScript
// (or under "Actions as JSON") the field is edited directly; the server checks it either way.
(function () {
  "use strict";
  document.querySelectorAll(".actions-editor").forEach(function (editor) {
    var target = document.getElementById(editor.dataset.target);
    var rows = editor.querySelector(".actions-rows");
    var adder = editor.querySelector("[data-add-action]");
    var blanks = {};
    editor.querySelectorAll("template[data-action]").forEach(function (t) { blanks[t.dataset.action] = t; });

    function removeButton() {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "btn btn-sm btn-outline-danger ms-auto";
      button.setAttribute("data-remove", "");
      button.setAttribute("aria-label", "Remove this action");
      button.textContent = "×";
      return button;
    }
    // An action of a type not offered here (another role's, or not an action at all) is kept
    // exactly as it is, shown as its JSON, removable but never rewritten.
    function rawRow(item) {
      var row = document.createElement("div");
      row.className = "actions-row border rounded p-2 d-flex align-items-center gap-2 bg-body-tertiary";
      row.dataset.raw = JSON.stringify(item);
      var code = document.createElement("code");
      code.textContent = row.dataset.raw;
      row.appendChild(code);
      row.appendChild(removeButton());
      return row;
    }
    function addRow(item) {
      var blank = item && typeof item === "object" ? blanks[item.type] : null;
      if (!blank) return rows.appendChild(rawRow(item));
      var row = blank.content.firstElementChild.cloneNode(true);
      row.querySelectorAll("[data-key]").forEach(function (input) {
        // Not submitted with the page's own form (a row's "campaign" is not the page's).
        input.removeAttribute("name");
        input.removeAttribute("id");
        var value = item[input.dataset.key];
        if (input.type === "checkbox") input.checked = value === true;
        else if (value !== undefined && value !== null) input.value = String(value);
      });
      return rows.appendChild(row);
    }
    function valueOf(input) {
      var v = input.value;
      if (input.type === "checkbox") return input.checked;
      if (input.tagName === "SELECT" && (v === "true" || v === "false")) return v === "true";
      if ((input.tagName === "SELECT" || input.type === "number") && /^-?\d+$/.test(v)) return Number(v);
      return v;
    }
    function write() {
      var items = Array.prototype.map.call(rows.children, function (row) {
        if (row.dataset.raw !== undefined) return JSON.parse(row.dataset.raw);
        var item = { type: row.dataset.type };
        row.querySelectorAll("[data-key]").forEach(function (input) { item[input.dataset.key] = valueOf(input); });
        return item;
      });
      target.value = JSON.stringify(items);
    }
    function load() {
      var items;
      try { items = JSON.parse(target.value || "[]"); } catch (e) { items = null; }
      var readable = Array.isArray(items);
      editor.hidden = !readable;  // JSON the editor cannot read is left to the form's message
      if (!readable) { target.closest("details").open = true; return; }
      rows.innerHTML = "";
      items.forEach(addRow);
    }

    load();
    rows.addEventListener("input", write);
    rows.addEventListener("change", write);
    rows.addEventListener("click", function (event) {
      var button = event.target.closest("[data-remove]");
      if (!button) return;
      button.closest(".actions-row").remove();
      write();
    });
    adder.addEventListener("change", function () {
      if (!adder.value) return;
      var row = addRow({ type: adder.value });
      adder.value = "";
      write();
      var first = row.querySelector("[data-key]");
      if (first) first.focus();
    });
    target.addEventListener("change", load);
    target.form.addEventListener("submit", write);
  });
})();

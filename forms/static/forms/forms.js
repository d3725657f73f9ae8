/* Form pages: show conditional fields, and let a submit button send its form only once. */
(function () {
  "use strict";
  function chosen(form, name) {
    var out = [];
    var inputs = form.querySelectorAll('[name="' + name + '"]');
    inputs.forEach(function (el) {
      if (el.tagName === "SELECT") {
        Array.prototype.forEach.call(el.selectedOptions, function (o) { if (o.value) { out.push(o.value, o.text.trim()); } });
      } else if (el.type === "checkbox" || el.type === "radio") {
        if (el.checked) {
          out.push(el.value);
          var label = el.closest("label");
          if (label) { out.push(label.textContent.trim()); }
          if (el.type === "checkbox" && inputs.length === 1) { out.push("是", "on", "true", "1"); }
        }
      } else if (el.value) {
        out.push(el.value.trim());
      }
    });
    return out;
  }
  function refresh(form) {
    form.querySelectorAll("[data-show-when]").forEach(function (row) {
      var controller = row.getAttribute("data-show-when");
      var wanted = (row.getAttribute("data-show-values") || "").split("|").filter(Boolean);
      var controllerRow = form.querySelector('[data-key="' + controller + '"]');
      var got = chosen(form, controller);
      var show = (!controllerRow || !controllerRow.hidden) &&
        (wanted.length ? wanted.some(function (v) { return got.indexOf(v) !== -1; }) : got.length > 0);
      row.hidden = !show;
    });
  }
  document.querySelectorAll("form.portal-form").forEach(function (form) {
    refresh(form); refresh(form);
    form.addEventListener("change", function () { refresh(form); refresh(form); });
  });
  document.querySelectorAll("form.one-shot").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.sent) { event.preventDefault(); return; }
      form.dataset.sent = "1";
      form.querySelectorAll('button[type="submit"]').forEach(function (b) { b.disabled = true; b.textContent = "提交中…"; });
    });
  });
})();

// Small behaviours the pages share. Loaded with a CSP nonce; no inline handlers anywhere.
(function () {
  "use strict";

  // Formsets: a button[data-add-form="prefix"] clones <template id="prefix-empty"> into #prefix-forms.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-add-form]");
    if (!button) return;
    event.preventDefault();
    var prefix = button.getAttribute("data-add-form");
    var total = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
    var template = document.getElementById(prefix + "-empty");
    var index = parseInt(total.value, 10);
    var html = template.innerHTML.replace(/__prefix__/g, String(index));
    document.getElementById(prefix + "-forms").insertAdjacentHTML("beforeend", html);
    total.value = String(index + 1);
    var first = document.querySelector("#" + prefix + "-forms > :last-child input:not([type=hidden])");
    if (first) first.focus();
  });

  // A row added by mistake: <button data-remove-row> inside [data-row]. Formsets skip the missing index.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-remove-row]");
    if (!button) return;
    event.preventDefault();
    button.closest("[data-row]").remove();
  });

  // While a new customer is typed, look for existing customers with the same phone or e-mail.
  document.addEventListener("change", function (event) {
    if (!event.target.closest(".f-number, .f-email")) return;
    var target = document.querySelector("[data-duplicate-check]");
    if (target && window.htmx) window.htmx.trigger(target, "dupcheck");
  });

  // After an htmx reply is sent, empty the box for the next one.
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    if (event.detail.successful && form.matches && form.matches("form.reply")) form.reset();
  });

  // Saved replies: <select data-insert-into="textarea id"> puts the chosen text in the reply box.
  document.addEventListener("change", function (event) {
    var select = event.target.closest("select[data-insert-into]");
    if (!select || !select.value) return;
    var box = document.getElementById(select.getAttribute("data-insert-into"));
    box.value = select.value;
    box.focus();
    select.selectedIndex = 0;
  });

  // Wide tables: a .table-wrap whose table is wider than the screen scrolls sideways with its first
  // column fixed (app.css), and a hint above it says so; checked on load, resize and after htmx swaps.
  function markWideTables() {
    document.querySelectorAll(".table-wrap").forEach(function (wrap) {
      var table = wrap.querySelector("table");
      if (!table || getComputedStyle(table).display !== "table") return; // stacked rows on a phone
      var wide = wrap.scrollWidth > wrap.clientWidth + 1;
      wrap.classList.toggle("is-wide", wide);
      var hint = wrap.previousElementSibling;
      if (!hint || !hint.classList.contains("scroll-hint")) {
        if (!wide) return;
        hint = document.createElement("p");
        hint.className = "scroll-hint";
        wrap.before(hint);
      }
      var columns = table.querySelectorAll("thead th").length;
      hint.textContent = "Scroll sideways for all " + columns + " columns \u2192";
      hint.hidden = !wide;
      markScrolled(wrap);
    });
  }
  function markScrolled(wrap) {
    wrap.classList.toggle("at-end", wrap.scrollLeft + wrap.clientWidth >= wrap.scrollWidth - 1);
  }
  document.addEventListener("scroll", function (event) {
    if (event.target.classList && event.target.classList.contains("table-wrap")) markScrolled(event.target);
  }, true);
  document.addEventListener("DOMContentLoaded", markWideTables);
  window.addEventListener("resize", markWideTables);
  document.addEventListener("htmx:afterSettle", markWideTables);

  // Buttons asking for confirmation: <button data-confirm="Really?">.
  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    var message = button && button.getAttribute("data-confirm");
    if (message && !window.confirm(message)) event.preventDefault();
  });
})();

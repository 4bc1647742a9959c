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

  // Buttons asking for confirmation: <button data-confirm="Really?">.
  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    var message = button && button.getAttribute("data-confirm");
    if (message && !window.confirm(message)) event.preventDefault();
  });
})();

// The CSV upload form: refuse a wrong or too-large file before sending it, show the leads-only field
// for leads, and say "Uploading…" while a large file goes up. Loaded with a CSP nonce; no inline code.
(function () {
  "use strict";

  var form = document.querySelector("[data-import-upload]");
  if (!form) return;
  var input = form.querySelector("input[type=file]");
  var error = form.querySelector("[data-file-error]");
  var button = form.querySelector("[data-busy-label]");
  var maxBytes = parseInt(input.getAttribute("data-max-bytes"), 10) || 0;
  var MB = 1024 * 1024;

  function fileProblem(file) {
    if (!file) return "";
    if (!/\.csv$/i.test(file.name)) return "Choose a .csv file (in Excel: File, Save As, CSV UTF-8).";
    if (file.size === 0) return "This file is empty.";
    if (maxBytes && file.size > maxBytes) {
      return "This file is " + (file.size / MB).toFixed(1) + " MB; the limit is " + Math.round(maxBytes / MB) +
        " MB. Split it into smaller files.";
    }
    return "";
  }

  function showProblem() {
    var message = fileProblem(input.files && input.files[0]);
    error.textContent = message;
    error.hidden = !message;
    return message;
  }

  function showFieldsForKind() {
    var checked = form.querySelector("input[name=kind]:checked");
    var kind = checked ? checked.value : "";
    form.querySelectorAll("[data-show-for-kind]").forEach(function (element) {
      element.hidden = element.getAttribute("data-show-for-kind") !== kind;
    });
  }

  input.addEventListener("change", showProblem);
  form.addEventListener("change", function (event) {
    if (event.target.name === "kind") showFieldsForKind();
  });
  form.addEventListener("submit", function (event) {
    if (showProblem()) {
      event.preventDefault();
      input.focus();
      return;
    }
    button.disabled = true;
    button.textContent = button.getAttribute("data-busy-label");
  });
  // Coming back with the browser's Back button shows the page as it was left: usable again.
  window.addEventListener("pageshow", function () {
    button.disabled = false;
  });
  showFieldsForKind();
})();

// The web form page: "Copy" buttons for the embed code. <button data-copy="#textarea-id">.
(function () {
  "use strict";

  function copied(button) {
    var label = button.textContent;
    button.textContent = "Copied";
    window.setTimeout(function () {
      button.textContent = label;
    }, 2000);
  }

  function copyBySelection(source, button) {
    source.focus();
    source.select();
    if (document.execCommand("copy")) copied(button);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var source = document.querySelector(button.getAttribute("data-copy"));
    if (!source) return;
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(source.value).then(
        function () { copied(button); },
        function () { copyBySelection(source, button); }
      );
    } else {
      copyBySelection(source, button);
    }
  });
})();

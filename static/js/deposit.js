// The deposit slip: the ticked payments' count and total as you tick, and "tick every payment".
(function () {
  "use strict";
  function money(cents) {
    return "$" + (cents / 100).toFixed(2).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  }
  function init() {
    var table = document.querySelector(".deposit-slip");
    if (!table) return;
    var boxes = Array.prototype.slice.call(table.querySelectorAll("tbody input[name=lines]"));
    var all = table.querySelector("[data-tick-all]");
    var count = table.querySelector("[data-ticked-count]");
    var total = table.querySelector("[data-ticked-total]");
    function update() {
      var cents = 0, n = 0;
      boxes.forEach(function (box) {
        var row = box.closest("tr");
        row.classList.toggle("ticked", box.checked);
        if (!box.checked) return;
        n += 1;
        cents += Math.round(parseFloat(row.dataset.amount) * 100);
      });
      count.textContent = n;
      total.textContent = money(cents);
      all.checked = n === boxes.length && n > 0;
      all.indeterminate = n > 0 && n < boxes.length;
    }
    all.addEventListener("change", function () {
      boxes.forEach(function (box) { box.checked = all.checked; });
      update();
    });
    boxes.forEach(function (box) { box.addEventListener("change", update); });
    update();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();

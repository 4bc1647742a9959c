/* The owner's dashboard: one Chart.js chart per <canvas data-chart="ID">, drawn from the json_script
   block of that ID: {type, labels, datasets: [{label, data, tone}], unit ("$", "min"), horizontal}.
   Numbers arrive as exact decimal strings (money) or numbers; Chart.js only draws them. */
(function () {
  "use strict";

  const css = getComputedStyle(document.documentElement);
  const token = (name, fallback) => css.getPropertyValue(name).trim() || fallback;
  const BRAND = token("--brand", "#0f62ae");
  const TONES = {
    current: BRAND,
    secondary: "#6fa8dc",
    muted: "#b5c0cf",
    bad: token("--bad", "#b42318"),
  };
  const PALETTE = [BRAND, "#6fa8dc", "#137a43", "#9a5b00", "#7b4fbf", "#b42318", "#4a5567", "#c2a100"];

  function label(unit, value) {
    const n = Number(value);
    if (unit === "$") return "$" + n.toLocaleString("en-US", { maximumFractionDigits: 0 });
    if (unit === "min") return n.toLocaleString("en-US") + " min";
    return n.toLocaleString("en-US");
  }

  function dataset(spec, set, i) {
    const round = spec.type === "doughnut";
    const colors = round ? (set.tone === "pair" ? [BRAND, TONES.bad] : PALETTE) : TONES[set.tone] || BRAND;
    return {
      label: set.label,
      data: set.data.map((v) => (v === null ? null : Number(v))),
      backgroundColor: colors,
      borderColor: round ? "#fff" : colors,
      borderWidth: spec.type === "line" ? 2 : 1,
      pointRadius: 0,
      tension: 0.2,
      fill: false,
      order: i,
    };
  }

  function options(spec) {
    const unit = spec.unit || "";
    const horizontal = Boolean(spec.horizontal);
    const valueAxis = { beginAtZero: true, ticks: { callback: (v) => label(unit, v), maxTicksLimit: 6 } };
    // every source or technician named on a horizontal chart; days thinned out on a time axis
    const ticks = horizontal ? { autoSkip: false } : { autoSkip: true, maxRotation: 0, maxTicksLimit: window.innerWidth < 600 ? 4 : 8 };
    const categoryAxis = { ticks, grid: { display: false } };
    const round = spec.type === "doughnut";
    return {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      indexAxis: horizontal ? "y" : "x",
      interaction: { mode: "index", intersect: false },
      plugins: {
        legend: {
          display: spec.datasets.length > 1 || round,
          position: "bottom",
          labels: { boxWidth: 12, usePointStyle: true },
        },
        tooltip: { callbacks: { label: (ctx) => `${ctx.dataset.label}: ${label(unit, ctx.raw)}` } },
      },
      scales: round ? {} : horizontal ? { x: valueAxis, y: categoryAxis } : { x: categoryAxis, y: valueAxis },
    };
  }

  function draw(canvas) {
    const source = document.getElementById(canvas.dataset.chart);
    if (!source || typeof window.Chart === "undefined") return;
    const spec = JSON.parse(source.textContent);
    const box = canvas.closest(".chart-box");
    if (spec.horizontal) {
      // a bar per label, each readable: the box grows with the labels (CSSOM, which the CSP allows)
      const perLabel = Math.max(24, spec.datasets.length * 12 + 8);
      box.style.height = `${Math.max(200, 70 + spec.labels.length * perLabel)}px`;
    }
    const data = { labels: spec.labels, datasets: spec.datasets.map((set, i) => dataset(spec, set, i)) };
    canvas.chart = new window.Chart(canvas, { type: spec.type, data, options: options(spec) });
    const empty = spec.datasets.every((set) => set.data.every((v) => v === null || Number(v) === 0));
    box.classList.toggle("is-empty", empty);
  }

  document.querySelectorAll("canvas[data-chart]").forEach(draw);

  // The range picker: the two dates only matter (and only show) for a custom range.
  const choice = document.getElementById("id_range");
  const dates = document.querySelectorAll(".dash-range .f-start, .dash-range .f-end");
  function showDates() {
    const custom = choice.value === "custom";
    dates.forEach((field) => {
      field.hidden = !custom;
    });
  }
  if (choice) {
    choice.addEventListener("change", showDates);
    showDates();
  }
})();

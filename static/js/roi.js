// The ROI report's charts: won revenue beside cost for each campaign, one chart per tab.
(function () {
  "use strict";
  const money = (v) => v.toLocaleString(undefined, { maximumFractionDigits: 0 });

  function config(data) {
    return {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [
          { label: "Won revenue", data: data.revenue, backgroundColor: "#198754" },
          { label: "Cost", data: data.cost, backgroundColor: "#adb5bd" },
        ],
      },
      options: {
        animation: false, maintainAspectRatio: false,
        scales: { x: { ticks: { autoSkip: false, maxRotation: 30 } }, y: { beginAtZero: true, ticks: { callback: money } } },
        plugins: {
          legend: { position: "bottom" },
          tooltip: { callbacks: { label: (c) => c.dataset.label + ": " + money(c.parsed.y) } },
        },
      },
    };
  }

  function draw() {
    const node = document.getElementById("roi-charts");
    if (!node || typeof Chart === "undefined") return;
    const charts = JSON.parse(node.textContent);
    for (const [name, data] of Object.entries(charts)) {
      const canvas = document.getElementById("chart-" + name);
      if (canvas && data.labels.length) new Chart(canvas, config(data));
      else if (canvas) canvas.parentElement.innerHTML = '<p class="text-secondary text-center pt-5">No revenue or cost to chart in this range.</p>';
    }
    // The active tab goes into the export links' and the filter form's view parameter.
    document.querySelectorAll("[data-view]").forEach((tab) => tab.addEventListener("shown.bs.tab", () => {
      const input = document.querySelector("input[name=view]");
      if (input) input.value = tab.dataset.view;
    }));
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();

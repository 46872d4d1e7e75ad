// The ROI report's charts: won revenue beside cost for each campaign, one per tab. A tab fetched
// later (fetched when first shown) draws its chart when it arrives.
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

  function draw(root) {
    if (typeof Chart === "undefined") return;
    root.querySelectorAll(".roi-tab").forEach((tab) => {
      const canvas = tab.querySelector("canvas.roi-chart");
      const node = tab.querySelector('script[type="application/json"]');
      if (!canvas || !node || canvas.dataset.drawn) return;
      canvas.dataset.drawn = "1";
      const data = JSON.parse(node.textContent);
      data.labels = Array.from(tab.querySelectorAll(".roi-chart-labels li"), (li) => li.textContent);
      if (data.labels.length) new Chart(canvas, config(data));
      else canvas.parentElement.innerHTML = '<p class="text-secondary text-center pt-5">No revenue or cost to chart in this range.</p>';
    });
  }

  function start() {
    draw(document);
    // The shown tab goes into the filter form, so applying a filter keeps it; a tab not rendered
    // with the page is fetched the first time it is shown.
    document.querySelectorAll("[data-view][data-bs-toggle]").forEach((tab) => tab.addEventListener("shown.bs.tab", () => {
      const input = document.querySelector("input[name=view]");
      if (input) input.value = tab.dataset.view;
      const pane = document.getElementById("tab-" + tab.dataset.view);
      const source = pane && pane.querySelector("a.roi-tab-source");
      if (!source) return;
      fetch(source.href, { credentials: "same-origin" })
        .then((response) => (response.ok ? response.text() : Promise.reject(response.status)))
        .then((html) => { pane.innerHTML = html; draw(pane); })
        .catch(() => { source.textContent = "Could not load this view: open it here."; });
    }));
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();

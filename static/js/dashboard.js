// The Sync health dashboard's charts: drawn once, then updated in place each time htmx swaps
// in fresh figures (#health-panels, every 30 s), so they never flicker or lose their hover.
(function () {
  "use strict";
  const charts = {};
  const colours = {
    pushed: "#0d6efd", pulled: "#198754", failed: "#dc3545",
    data_formatting: "#fd7e14", access: "#dc3545", process_alignment: "#6f42c1", customization: "#0dcaf0",
  };

  function readData() {
    const node = document.getElementById("health-charts");
    return node ? JSON.parse(node.textContent) : null;
  }

  function throughputConfig(flow) {
    const line = (key, label) => ({
      label, data: flow[key], borderColor: colours[key], backgroundColor: colours[key] + "33",
      borderWidth: 1.5, pointRadius: 0, tension: 0.2, fill: key !== "failed",
    });
    return {
      type: "line",
      data: { labels: flow.labels, datasets: [line("pushed", "Pushed"), line("pulled", "Pulled"), line("failed", "Refused")] },
      options: {
        animation: false, maintainAspectRatio: false, interaction: { mode: "index", intersect: false },
        scales: { x: { ticks: { maxTicksLimit: 12, autoSkip: true } }, y: { beginAtZero: true, title: { display: true, text: "records / minute" } } },
        plugins: { legend: { position: "bottom" } },
      },
    };
  }

  function errorsConfig(errors) {
    return {
      type: "bar",
      data: {
        labels: errors.labels,
        datasets: errors.series.map((s) => ({ label: s.label, data: s.data, backgroundColor: colours[s.category] })),
      },
      options: {
        animation: false, maintainAspectRatio: false,
        scales: { x: { stacked: true, ticks: { maxTicksLimit: 8 } }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } },
        plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } },
      },
    };
  }

  function draw() {
    const data = readData();
    if (!data || typeof Chart === "undefined") return;
    const wanted = { throughput: throughputConfig(data.throughput), errors: errorsConfig(data.errors) };
    for (const [name, config] of Object.entries(wanted)) {
      const canvas = document.getElementById("chart-" + name);
      if (!canvas) continue;
      if (charts[name]) {
        charts[name].data.labels = config.data.labels;
        config.data.datasets.forEach((set, i) => { charts[name].data.datasets[i].data = set.data; });
        charts[name].update("none");
      } else {
        charts[name] = new Chart(canvas, config);
      }
    }
  }

  document.addEventListener("DOMContentLoaded", draw);
  document.addEventListener("htmx:afterSwap", (event) => {
    if (event.target.id === "health-panels") draw();
  });
  // A session that timed out answers the poll with the login page: show it, not inside a card.
  document.addEventListener("htmx:beforeSwap", (event) => {
    if (event.detail.xhr.responseURL.includes("/login/")) window.location.reload();
  });
})();

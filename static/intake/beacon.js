// Landing page view beacon: a view is recorded by a POST from a browser that runs the page,
// never by the GET itself (link scanners and prefetchers open pages nobody reads).
(function () {
  var script = document.currentScript;
  var url = script && script.getAttribute("data-view-url");
  if (!url) { return; }
  if (navigator.sendBeacon) { navigator.sendBeacon(url); return; }
  fetch(url, { method: "POST", credentials: "same-origin", keepalive: true });
})();

// Adds the viewer's own local time under an event time shown in the event's zone, when the
// two differ. The page is complete without it (the event's zone is always named).
(function () {
  "use strict";
  var viewerZone;
  try { viewerZone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
  var nodes = document.querySelectorAll("time[data-zone][datetime]");
  Array.prototype.forEach.call(nodes, function (node) {
    var eventZone = node.getAttribute("data-zone");
    if (!viewerZone || viewerZone === eventZone) { return; }
    var when = new Date(node.getAttribute("datetime"));
    if (isNaN(when.getTime())) { return; }
    var lang = document.documentElement.lang || undefined;
    var options = { weekday: "long", day: "numeric", month: "long", hour: "2-digit", minute: "2-digit", timeZoneName: "short" };
    var viewerText = when.toLocaleString(lang, Object.assign({ timeZone: viewerZone }, options));
    var eventText = when.toLocaleString(lang, Object.assign({ timeZone: eventZone }, options));
    if (viewerText === eventText) { return; }
    var hint = document.createElement("span");
    hint.className = "local-time";
    hint.textContent = (node.getAttribute("data-label") || "Your time:") + " " + viewerText;
    node.parentNode.appendChild(hint);
  });
})();

// The date poll on the guest page: sends the browser's time zone with the votes, so the
// organiser's table shows each voter's zone.
(function () {
  "use strict";
  var zone = "";
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch (e) {
    zone = "";
  }
  document.querySelectorAll("input[data-local-zone]").forEach(function (input) {
    input.value = zone;
  });
})();

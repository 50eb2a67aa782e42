/* The reminder form: channels reordered with ↑ buttons, and the RRULE picker with its preview.
   Loaded as a static file (the Content-Security-Policy allows no inline script). */
"use strict";
(function () {
  function orderedCheckboxes(root) {
    root.querySelectorAll(".bb-move-up").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        var item = button.closest(".bb-ordered-item");
        var previous = item.previousElementSibling;
        if (previous) {
          item.parentNode.insertBefore(item, previous);
          button.focus();
        }
      });
    });
  }

  function rrulePicker(root) {
    var picker = root.querySelector(".bb-rrule-picker");
    var text = root.querySelector(".bb-rrule-text");
    var preview = root.querySelector(".bb-rrule-preview");
    var freq = picker.querySelector(".bb-rrule-freq");
    var interval = picker.querySelector(".bb-rrule-interval");
    var weekdays = picker.querySelectorAll(".bb-rrule-weekdays input");
    var monthday = picker.querySelector(".bb-rrule-monthday select");
    var startInput = document.getElementById("id_send_at");
    var url = root.dataset.previewUrl;
    var timer = null;
    picker.hidden = false;

    function parse(rule) {
      var parts = {};
      (rule || "").toUpperCase().replace(/^RRULE:/, "").split(";").forEach(function (item) {
        var pair = item.split("=");
        if (pair.length === 2) { parts[pair[0].trim()] = pair[1].trim(); }
      });
      return parts;
    }

    function load() {
      var parts = parse(text.value);
      if (parts.FREQ) { freq.value = parts.FREQ; }
      interval.value = parts.INTERVAL || "1";
      var days = (parts.BYDAY || "").split(",");
      weekdays.forEach(function (box) { box.checked = days.indexOf(box.value) !== -1; });
      monthday.value = parts.BYMONTHDAY && parts.BYMONTHDAY.indexOf(",") === -1 ? parts.BYMONTHDAY : "";
      showParts();
    }

    function showParts() {
      picker.querySelector(".bb-rrule-weekdays").hidden = ["WEEKLY", "DAILY", "HOURLY"].indexOf(freq.value) === -1;
      picker.querySelector(".bb-rrule-monthday").hidden = ["MONTHLY", "YEARLY"].indexOf(freq.value) === -1;
    }

    function build() {
      var parts = ["FREQ=" + freq.value];
      var n = parseInt(interval.value, 10);
      if (n > 1) { parts.push("INTERVAL=" + n); }
      var days = [];
      weekdays.forEach(function (box) { if (box.checked) { days.push(box.value); } });
      if (days.length && !picker.querySelector(".bb-rrule-weekdays").hidden) { parts.push("BYDAY=" + days.join(",")); }
      if (monthday.value && !picker.querySelector(".bb-rrule-monthday").hidden) {
        parts.push("BYMONTHDAY=" + monthday.value);
      }
      // Parts the picker does not know (COUNT, UNTIL, BYMONTH…) are kept as typed.
      var kept = parse(text.value);
      ["COUNT", "UNTIL", "BYMONTH", "BYSETPOS", "WKST", "BYHOUR", "BYMINUTE", "BYYEARDAY", "BYWEEKNO"].forEach(function (name) {
        if (kept[name]) { parts.push(name + "=" + kept[name]); }
      });
      text.value = parts.join(";");
      refresh();
    }

    function render(data) {
      preview.textContent = "";
      preview.classList.toggle("bb-alert", !data.ok);
      if (!data.ok) {
        var error = document.createElement("p");
        error.className = "bb-rrule-error";
        error.textContent = data.error;
        preview.appendChild(error);
        return;
      }
      var reading = document.createElement("p");
      reading.className = "bb-rrule-reading";
      reading.textContent = data.reading + " (" + data.timezone + ")";
      preview.appendChild(reading);
      var caption = document.createElement("p");
      caption.textContent = data.occurrences.length ? "Next " + data.occurrences.length + " times:" : "No time after now.";
      preview.appendChild(caption);
      var list = document.createElement("ol");
      list.className = "bb-occurrences";
      data.occurrences.forEach(function (item) {
        var li = document.createElement("li");
        li.textContent = item.local + " " + data.timezone + " (" + item.utc + ")";
        list.appendChild(li);
      });
      preview.appendChild(list);
    }

    function refresh() {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () {
        var query = "&rrule=" + encodeURIComponent(text.value) +
          "&start=" + encodeURIComponent(startInput ? startInput.value : "");
        fetch(url + query, {credentials: "same-origin", headers: {"Accept": "application/json"}})
          .then(function (response) { return response.json(); })
          .then(render)
          .catch(function () { preview.textContent = "The preview could not be loaded."; });
      }, 250);
    }

    [freq, interval, monthday].forEach(function (el) { el.addEventListener("change", function () { showParts(); build(); }); });
    interval.addEventListener("input", build);
    weekdays.forEach(function (box) { box.addEventListener("change", build); });
    text.addEventListener("input", function () { load(); refresh(); });
    if (startInput) { startInput.addEventListener("change", refresh); }
    load();
    if (text.value) { refresh(); }
  }

  function start() {
    document.querySelectorAll("[data-bb-ordered]").forEach(orderedCheckboxes);
    document.querySelectorAll(".bb-rrule").forEach(rrulePicker);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());

// 紧急事项: one submission per tap, live countdowns, and a timeline that refreshes itself.
(function () {
  document.querySelectorAll("form.one-tap").forEach(function (form) {
    form.addEventListener("submit", function () {
      // The server is idempotent anyway (one key per form); this only spares a second request.
      form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
    });
  });
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-due]").forEach(function (el) {
      var left = Math.round((Date.parse(el.getAttribute("data-due")) - now) / 1000);
      var sign = left < 0 ? "-" : "";
      var s = Math.abs(left);
      el.textContent = sign + Math.floor(s / 3600) + ":" + pad(Math.floor(s % 3600 / 60)) + ":" + pad(s % 60);
      el.classList.toggle("missed", left < 0);
    });
  }
  tick();
  setInterval(tick, 1000);
  var live = document.querySelector("[data-poll]");
  if (live) {
    setInterval(function () {
      fetch(live.getAttribute("data-poll"), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) { if (html !== null && html !== live.innerHTML) { live.innerHTML = html; tick(); } })
        .catch(function () {});
    }, 10000);
  }
})();

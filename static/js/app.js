// Switchboard's small behaviours. No inline scripts anywhere (strict CSP): pages opt in with
// data attributes.
(function () {
  "use strict";

  // <form data-confirm="Archive this client?"> asks before submitting.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form instanceof HTMLFormElement && form.dataset.confirm) {
      if (!window.confirm(form.dataset.confirm)) {
        event.preventDefault();
        return;
      }
    }
    // Double clicks: a submitted form's buttons are disabled until the page changes.
    if (form instanceof HTMLFormElement && !event.defaultPrevented && !form.hasAttribute("hx-post")) {
      window.setTimeout(function () {
        form.querySelectorAll("button[type=submit], input[type=submit]").forEach(function (b) {
          b.disabled = true;
        });
      }, 0);
    }
  });

  // <select data-autosubmit> submits its form on change (filters).
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el instanceof HTMLElement && el.hasAttribute("data-autosubmit") && el.form) {
      el.form.requestSubmit();
    }
  });

  // Instagram appends "#_" to its OAuth redirect and browsers keep it across ours; drop it.
  if (window.location.hash === "#_") {
    window.history.replaceState(null, "", window.location.pathname + window.location.search);
  }

  // htmx: send the CSRF token with every request.
  document.addEventListener("htmx:configRequest", function (event) {
    var tokenInput = document.querySelector("input[name=csrfmiddlewaretoken]");
    var cookie = document.cookie.split("; ").find(function (c) { return c.indexOf("csrftoken=") === 0; });
    var token = tokenInput ? tokenInput.value : (cookie ? cookie.split("=")[1] : "");
    if (token) { event.detail.headers["X-CSRFToken"] = token; }
  });
})();

// Switchboard's small behaviours. No inline scripts anywhere (strict CSP): pages opt in with
// data attributes.
(function () {
  "use strict";

  // <form data-confirm="Archive this client?"> asks before submitting; so does a submit button
  // with its own data-confirm (a form whose buttons mean different things).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var button = event.submitter;
    var question = (button && button.dataset && button.dataset.confirm) ||
      (form instanceof HTMLFormElement && form.dataset.confirm);
    if (form instanceof HTMLFormElement && question) {
      if (!window.confirm(question)) {
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

  // <button data-copy="#source" data-copy-status="#status" hidden> copies the text of #source and
  // says "Copied" in #status (role=status, so screen readers hear it too). The button stays
  // hidden without JavaScript, where there would be nothing behind it.
  function revealCopyButtons(root) {
    root.querySelectorAll("[data-copy]").forEach(function (button) { button.hidden = false; });
  }
  revealCopyButtons(document);
  document.addEventListener("htmx:load", function (event) { revealCopyButtons(event.detail.elt); });

  function copyText(source) {
    var text = source.textContent.trim();
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    // Plain http on a LAN address has no Clipboard API: copy the selection the old way.
    var range = document.createRange();
    range.selectNodeContents(source);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    var copied = document.execCommand("copy");
    selection.removeAllRanges();
    return copied ? Promise.resolve() : Promise.reject(new Error("copy refused"));
  }

  document.addEventListener("click", function (event) {
    var button = event.target instanceof Element ? event.target.closest("[data-copy]") : null;
    var source = button && document.querySelector(button.dataset.copy);
    if (!source) { return; }
    var status = document.querySelector(button.dataset.copyStatus);
    var say = function (text) {
      if (!status) { return; }
      status.textContent = text;
      window.clearTimeout(status.copyTimer);
      status.copyTimer = window.setTimeout(function () { status.textContent = ""; }, 5000);
    };
    copyText(source).then(
      function () { say("Copied"); },
      function () {
        // Leave the link selected so Ctrl+C / long-press still works.
        var range = document.createRange();
        range.selectNodeContents(source);
        window.getSelection().removeAllRanges();
        window.getSelection().addRange(range);
        say("Couldn't copy: the link is selected, copy it with Ctrl+C");
      }
    );
  });

  // <button data-print hidden> prints the page (reports: "Save as PDF" is in the print dialog).
  // Hidden without JavaScript, where the browser's own Print menu does the same.
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });

  // A table wider than its card scrolls sideways; keyboard users must be able to scroll it too
  // (WCAG 2.1.1), so a wrapper that actually scrolls becomes a focusable, named region.
  function markScrollingTables() {
    document.querySelectorAll(".table-wrap").forEach(function (wrap) {
      var scrolls = wrap.scrollWidth > wrap.clientWidth + 1;
      if (scrolls && !wrap.hasAttribute("tabindex")) {
        var heading = wrap.closest("section, .card, main");
        heading = heading && heading.querySelector("h1, h2");
        wrap.tabIndex = 0;
        wrap.setAttribute("role", "region");
        wrap.setAttribute("aria-label", (heading ? heading.textContent.trim() + ": " : "") + "table, scrolls sideways");
        wrap.dataset.scrolls = "";
      } else if (!scrolls && wrap.hasAttribute("data-scrolls")) {
        ["tabindex", "role", "aria-label", "data-scrolls"].forEach(function (a) { wrap.removeAttribute(a); });
      }
    });
  }
  markScrollingTables();
  document.addEventListener("htmx:afterSettle", markScrollingTables);
  var resizeTimer;
  window.addEventListener("resize", function () {
    window.clearTimeout(resizeTimer);
    resizeTimer = window.setTimeout(markScrollingTables, 150);
  });

  // Instagram appends "#_" to its OAuth redirect and browsers keep it across ours; drop it.
  if (window.location.hash === "#_") {
    window.history.replaceState(null, "", window.location.pathname + window.location.search);
  }

  // Live fragments that poll: <div id="…" hx-get="…" hx-trigger="poll" data-poll="5000"
  // data-poll-max="60000">. While the tab is visible the fragment is asked for after data-poll
  // ms; each answer identical to the last one (or a failed request) doubles the wait, up to
  // data-poll-max, and is not swapped in, so focus and scrolling stay put. A changed answer, or
  // the tab being shown again, brings the wait back to data-poll. A hidden tab asks nothing: a
  // forgotten dashboard costs the server nothing. Each answer replaces the element (outerHTML),
  // so the state is kept by its id; an answer without data-poll is the last one asked for (a
  // post page whose accounts are all done). Parts a person may be typing into are kept across
  // answers with hx-preserve.
  var polls = {};

  function pollAttribute(el, name, fallback) {
    var value = parseInt(el.getAttribute(name), 10);
    return value > 0 ? value : fallback;
  }

  function pollLater(id) {
    var state = polls[id];
    window.clearTimeout(state.timer);
    state.timer = null;
    if (!document.hidden) {
      state.timer = window.setTimeout(function () { pollNow(id); }, state.wait);
    }
  }

  function pollNow(id) {
    var state = polls[id];
    var el = document.getElementById(id);
    window.clearTimeout(state.timer);
    state.timer = null;
    if (!el || document.hidden || !window.htmx) { return; }
    state.askedAt = Date.now();
    window.htmx.trigger(el, "poll");
  }

  function startPolling(root) {
    var found = root.matches && root.matches("[data-poll]") ? [root] : [];
    if (root.querySelectorAll) {
      found = found.concat(Array.prototype.slice.call(root.querySelectorAll("[data-poll]")));
    }
    found.forEach(function (el) {
      if (!el.id || polls[el.id]) { return; }  // no id, or an answer that replaced a polling one
      var every = pollAttribute(el, "data-poll", 5000);
      polls[el.id] = {
        every: every,
        max: Math.max(every, pollAttribute(el, "data-poll-max", 60000)),
        wait: every,
        last: null,
        timer: null,
        askedAt: Date.now(),
      };
      pollLater(el.id);
    });
  }
  startPolling(document);
  document.addEventListener("htmx:load", function (event) { startPolling(event.detail.elt); });

  function pollOf(detail) {
    var el = detail.requestConfig && detail.requestConfig.elt;
    return el && el.hasAttribute("data-poll") ? polls[el.id] : null;
  }

  document.addEventListener("htmx:beforeSwap", function (event) {
    var state = pollOf(event.detail);
    if (!state) { return; }
    var xhr = event.detail.xhr;
    // A form's CSRF token is masked anew on every answer: it alone makes no news.
    var answer = xhr.responseText.replace(/name="csrfmiddlewaretoken" value="[^"]*"/g, "");
    if (xhr.status === 200 && answer !== state.last) {
      state.last = answer;
      state.wait = state.every;
    } else {
      event.detail.shouldSwap = false;
      state.wait = Math.min(state.wait * 2, state.max);
    }
  });

  // Fired on the element, or on its parent once an answer has replaced it.
  document.addEventListener("htmx:afterRequest", function (event) {
    var state = pollOf(event.detail);
    if (!state || state.answered === event.detail.xhr) { return; }
    state.answered = event.detail.xhr;
    if (!event.detail.xhr.status) {  // no answer at all (network down): no beforeSwap either
      state.wait = Math.min(state.wait * 2, state.max);
    }
    pollLater(event.detail.requestConfig.elt.id);
  });

  document.addEventListener("visibilitychange", function () {
    Object.keys(polls).forEach(function (id) {
      var state = polls[id];
      if (document.hidden) {
        window.clearTimeout(state.timer);
        state.timer = null;
        return;
      }
      state.wait = state.every;
      if (Date.now() - state.askedAt >= state.every) {
        pollNow(id);
      } else {
        pollLater(id);
      }
    });
  });

  // htmx: send the CSRF token with every request.
  document.addEventListener("htmx:configRequest", function (event) {
    var tokenInput = document.querySelector("input[name=csrfmiddlewaretoken]");
    var cookie = document.cookie.split("; ").find(function (c) { return c.indexOf("csrftoken=") === 0; });
    var token = tokenInput ? tokenInput.value : (cookie ? cookie.split("=")[1] : "");
    if (token) { event.detail.headers["X-CSRFToken"] = token; }
  });
})();

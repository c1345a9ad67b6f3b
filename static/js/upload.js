// The video upload widget (templates/publishing/_upload.html documents its contract).
// Choosing a file uploads it at once with XMLHttpRequest, whose upload progress events move the
// <progress> bar; fetch() has no upload progress. No inline scripts (strict CSP): the widget is
// found by its data attributes, and events are delegated so widgets added by htmx work too.
(function () {
  "use strict";
  if (window.switchboardUpload) { return; } // the partial may be included more than once
  window.switchboardUpload = true;

  function megabytes(bytes) {
    if (bytes < 1e6) { return Math.round(bytes / 1e3) + " kB"; }
    var mb = bytes / 1e6;
    return (mb < 10 ? mb.toFixed(1) : Math.round(mb).toLocaleString("en")) + " MB";
  }

  function part(widget, name) { return widget.querySelector("[data-upload-" + name + "]"); }

  function say(widget, text, kind) {
    var status = part(widget, "status");
    status.textContent = text;
    status.className = "upload-status" + (kind ? " upload-status-" + kind : "");
  }

  function setBusy(widget, busy) {
    widget.classList.toggle("is-uploading", busy);
    part(widget, "progress").hidden = !busy;
    part(widget, "input").disabled = busy;
  }

  function showProgress(widget, loaded, total) {
    var bar = part(widget, "bar");
    var percent = total ? Math.floor((loaded / total) * 100) : 0;
    bar.max = 100;
    bar.value = percent;
    bar.setAttribute("aria-valuetext", percent + "% of " + megabytes(total));
    part(widget, "percent").textContent = percent + "%";
  }

  function fail(widget, message) {
    setBusy(widget, false);
    say(widget, message, "error");
    widget.dispatchEvent(new CustomEvent("media:upload-failed", {bubbles: true, detail: {message: message}}));
  }

  function upload(widget, input, file) {
    var max = Number(widget.dataset.maxBytes || 0);
    if (max && file.size > max) {
      // Refused before anything is sent.
      input.value = "";
      fail(widget, "“" + file.name + "” is " + megabytes(file.size) + ". Videos can be at most " +
        widget.dataset.maxLabel + " (Instagram's limit for Reels).");
      return;
    }
    var xhr = new XMLHttpRequest();
    var data = new FormData();
    data.append("file", file, file.name);
    xhr.open("POST", widget.dataset.uploadUrl);
    xhr.setRequestHeader("X-CSRFToken", widget.dataset.csrf || "");
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.addEventListener("progress", function (event) {
      showProgress(widget, event.loaded, event.lengthComputable ? event.total : file.size);
    });
    xhr.upload.addEventListener("load", function () {
      showProgress(widget, 1, 1);
      say(widget, "Upload complete. Saving…");
    });
    xhr.addEventListener("load", function () {
      var reply = null;
      try { reply = JSON.parse(xhr.responseText); } catch (e) { reply = null; }
      if (xhr.status >= 200 && xhr.status < 300 && reply && reply.id) {
        setBusy(widget, false);
        input.value = "";
        part(widget, "value").value = reply.id;
        say(widget, reply.message, reply.duplicate ? "info" : "ok");
        widget.dispatchEvent(new CustomEvent("media:uploaded", {bubbles: true, detail: reply}));
      } else if (xhr.status === 403 || !reply) {
        // A refused CSRF token, or a redirect to the sign-in page after the session ended.
        fail(widget, "Your session has ended or the page is out of date. Reload the page and try again.");
      } else {
        fail(widget, (reply && reply.error) || "The upload failed (" + xhr.status + "). Try again.");
      }
    });
    xhr.addEventListener("error", function () {
      fail(widget, "The upload was interrupted; nothing was saved. Check the connection and try again.");
    });
    xhr.addEventListener("abort", function () {
      input.value = "";
      fail(widget, "Upload cancelled; nothing was saved.");
    });
    widget.currentUpload = xhr;
    setBusy(widget, true);
    showProgress(widget, 0, file.size);
    say(widget, "Uploading “" + file.name + "” (" + megabytes(file.size) + ")…");
    xhr.send(data);
  }

  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!(input instanceof HTMLInputElement) || !input.hasAttribute("data-upload-input")) { return; }
    var widget = input.closest("[data-upload]");
    if (widget && input.files && input.files[0]) { upload(widget, input, input.files[0]); }
  });

  document.addEventListener("click", function (event) {
    var button = event.target instanceof Element ? event.target.closest("[data-upload-cancel]") : null;
    var widget = button && button.closest("[data-upload]");
    if (widget && widget.currentUpload) { widget.currentUpload.abort(); }
  });

  // With the script running, choosing a file is enough: the no-JavaScript submit button goes.
  function hideFallbacks(root) {
    root.querySelectorAll("[data-upload]").forEach(function (widget) {
      var form = widget.closest("form");
      if (form) { form.querySelectorAll("[data-upload-fallback]").forEach(function (el) { el.hidden = true; }); }
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { hideFallbacks(document); });
  } else {
    hideFallbacks(document);
  }
  document.addEventListener("htmx:load", function (event) { hideFallbacks(event.detail.elt); });
})();

// The campaign page's live preview: re-render the message per language as staff type, through the
// back office's preview endpoint (the same renderer as the saved campaign's preview).
(function () {
  "use strict";

  function start() {
    var panel = document.getElementById("campaign-preview");
    var form = panel && panel.closest("form");
    if (!form) {
      return;
    }
    var channel = form.querySelector("select[name=channel]");
    var timer = null;

    // WhatsApp campaigns send an approved template; the other channels a title and a body.
    function showParts() {
      if (!channel) {
        return;
      }
      var whatsapp = channel.value === "whatsapp";
      form.querySelectorAll("[data-template-part]").forEach(function (input) {
        var part = input.getAttribute("data-template-part");
        var wanted = whatsapp ? part === "content_sid" || part === "variables" : part === "title" || part === "body";
        var row = input.closest(".field-" + input.name) || input.closest(".form-row") || input.parentElement;
        row.hidden = !wanted;
      });
    }

    function refresh() {
      fetch(panel.getAttribute("data-url"), {
        method: "POST",
        body: new FormData(form),
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      })
        .then(function (response) {
          return response.ok ? response.json() : null;
        })
        .then(function (answer) {
          if (answer) {
            panel.innerHTML = answer.html;
          }
        })
        .catch(function () {});
    }

    function changed(event) {
      var name = event.target.name || "";
      if (name === "channel") {
        showParts();
      }
      if (name === "channel" || name === "purpose" || event.target.hasAttribute("data-template-part")) {
        clearTimeout(timer);
        timer = setTimeout(refresh, 300);
      }
    }

    form.addEventListener("input", changed);
    form.addEventListener("change", changed);
    showParts();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();

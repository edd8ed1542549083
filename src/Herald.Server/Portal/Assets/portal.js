// Herald portal: progressive enhancement only; every action also works as a plain form.
(function () {
  "use strict";

  // Resend without a full page reload: post the form, then put the returned attempts in place.
  document.querySelectorAll("form[data-resend]").forEach(function (form) {
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var button = form.querySelector("button");
      var status = document.getElementById("resend-status");
      var token = form.querySelector("input[name=__RequestVerificationToken]").value;
      // Marked busy rather than disabled: a disabled button loses the keyboard's focus, which
      // would fall back to the page's start.
      if (button.getAttribute("aria-disabled") === "true") {
        return;
      }
      button.setAttribute("aria-disabled", "true");
      status.textContent = "Sending…";
      fetch(form.action, {
        method: "POST",
        headers: { "RequestVerificationToken": token, "X-Requested-With": "fetch" },
        credentials: "same-origin"
      }).then(function (response) {
        if (response.redirected) {
          // Sent to the sign-in page: the session ended, and nothing was sent.
          throw new Error("your session has ended; sign in again");
        }
        // Where the notification stands now, after the attempt or beside a refusal's reason.
        showState(response);
        if (!response.ok) {
          // A refusal answers its reason as text, or as Herald's error (JSON, its first message);
          // anything else is named by its status.
          var type = response.headers.get("Content-Type") || "";
          var reason = type.indexOf("text/plain") === 0 ? response.text()
            : type.indexOf("application/json") === 0 ? response.json().then(function (error) { return (error.message || [])[0] || "HTTP " + response.status; }, function () { return "HTTP " + response.status; })
            : Promise.resolve("HTTP " + response.status);
          return reason.then(function (text) { throw new Error(text); });
        }
        return response.text();
      }).then(function (html) {
        document.getElementById("attempts").innerHTML = html;
        var last = document.querySelector("#attempts [data-last-outcome]");
        status.textContent = last ? "Resent: " + last.getAttribute("data-last-outcome") : "Resent.";
      }).catch(function (error) {
        status.textContent = "The resend could not be made: " + error.message;
      }).finally(function () {
        button.removeAttribute("aria-disabled");
      });
    });
  });

  function showState(response) {
    var state = response.headers.get("X-Herald-Status");
    var badge = document.getElementById("notification-status");
    if (state && badge) {
      badge.textContent = state;
      badge.className = "badge " + state;
      // The tab's title names where it stands too ("TRANSACTION.PAID, pending · Notification · Herald").
      document.title = document.title.replace(/, [a-z]+ · /, ", " + state + " · ");
    }
    // Done with (delivered, or dead): it waits for its endpoint, or an earlier one, no more.
    var waits = document.getElementById("next-attempt-waits");
    if (state && state !== "pending" && waits) {
      waits.hidden = true;
    }
    var next = response.headers.get("X-Herald-Next-Attempt");
    var nextShown = document.getElementById("notification-next-attempt");
    if (next !== null && nextShown) {
      nextShown.textContent = next === "none" ? "\u2014" : next;
    }
  }

  // A page that answers a form (saved, refused, a test's result, a new key) says so in a notice:
  // the keyboard's focus is taken there, so that a screen reader reads it out and the next Tab goes
  // on from it, rather than the focus falling back to the page's start with nothing said.
  // A field the page puts the focus in itself (the sign-in's key), described by the notice, keeps
  // it: a screen reader on it reads the notice with it.
  var notice = document.querySelector(".notice:not([hidden])");
  var first = document.querySelector("[autofocus]");
  var described = first && notice && notice.id && (first.getAttribute("aria-describedby") || "").split(" ").indexOf(notice.id) >= 0;
  if (notice && !described) {
    notice.setAttribute("tabindex", "-1");
    notice.focus();
  }

  // Copy a secret shown once.
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var text = document.querySelector(button.getAttribute("data-copy")).textContent;
      var done = function () { button.textContent = "Copied"; };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done, function () { select(button); });
      } else {
        select(button);
      }
    });
  });

  function select(button) {
    var range = document.createRange();
    range.selectNodeContents(document.querySelector(button.getAttribute("data-copy")));
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    button.textContent = "Selected: press Ctrl+C";
  }
})();

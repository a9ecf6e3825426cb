// Keyboard shortcuts and small helpers of the xiuhua review pages (our own code; no libraries).
//
// An element with data-shortcut="k1 k2" answers those keys: a form is submitted, a field is focused, a link or
// button is clicked. Keys do nothing while typing in a field (Esc leaves it) or with Ctrl/Alt/Meta held.
// "?" shows the help dialog, which lists every shortcut.
(function () {
  "use strict";

  // Where keys type text or pick a value; a focused checkbox or button keeps the shortcuts on.
  const NOT_TYPED = ["checkbox", "radio", "button", "submit", "reset", "image", "file", "color", "range"];

  function isField(element) {
    if (!(element instanceof HTMLElement)) {
      return false;
    }
    if (element instanceof HTMLInputElement) {
      return !NOT_TYPED.includes(element.type);
    }
    return element.matches("textarea, select") || element.isContentEditable;
  }

  function shortcutTarget(key) {
    for (const element of document.querySelectorAll("[data-shortcut]")) {
      if (element.dataset.shortcut.split(" ").includes(key) && !element.disabled) {
        return element;
      }
    }
    return null;
  }

  function activate(element) {
    if (element instanceof HTMLFormElement) {
      element.requestSubmit();
    } else if (isField(element)) {
      element.focus();
      element.scrollIntoView({block: "center"});
    } else {
      element.click();
    }
  }

  function toggleHelp(help) {
    if (help.open) {
      help.close();
    } else {
      help.showModal();
    }
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.altKey || event.metaKey || event.isComposing) {
      return;
    }
    const help = document.getElementById("help");
    if (isField(event.target)) {
      if (event.key === "Escape") {
        event.target.blur();
      } else if (event.key === "Enter" && event.target.matches("select") && event.target.form &&
                 event.target.form.hasAttribute("data-enter-submits")) {
        event.preventDefault();
        event.target.form.requestSubmit();
      }
      return;
    }
    if (event.key === "?" && help) {
      event.preventDefault();
      toggleHelp(help);
      return;
    }
    if (help && help.open) {
      return;
    }
    const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
    const target = shortcutTarget(key);
    if (target) {
      event.preventDefault();
      activate(target);
    }
  });

  document.addEventListener("click", function (event) {
    const help = document.getElementById("help");
    if (!help || !(event.target instanceof Element)) {
      return;
    }
    if (event.target.closest("[data-help-open]")) {
      help.showModal();
    } else if (event.target.closest("[data-help-close]")) {
      help.close();
    }
  });

  // One submission per form: a double press of a shortcut must not post twice.
  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (form.dataset.sent) {
      event.preventDefault();
      return;
    }
    form.dataset.sent = "1";
  });

  // The "select all" box of the queue list.
  document.addEventListener("change", function (event) {
    const box = event.target;
    if (!(box instanceof HTMLInputElement) || !box.hasAttribute("data-select-all")) {
      return;
    }
    for (const item of box.form.querySelectorAll('input[name="candidate_id"]')) {
      item.checked = box.checked;
    }
  });
})();

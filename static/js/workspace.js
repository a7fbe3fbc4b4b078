/* Annotator workspace: atom editing, autosave, conflict handling and keyboard shortcuts.
 *
 * The server renders everything; this file only moves atom rows around, decides when to save,
 * and keeps the typed text in the page whatever happens to a request. Saving goes through htmx
 * (the editor form has hx-trigger="autosave" and hx-sync="this:queue last", so saves never
 * overlap and each one carries the version the previous one returned).
 */
(function () {
  "use strict";

  const SAVE_DELAY_MS = 800;
  const RETRY_MS = [2000, 5000, 10000, 30000];

  const state = { dirty: false, edits: 0, sentEdits: 0, conflict: false, stopped: false,
                  timer: null, retry: 0, leaving: false, afterSave: [] };

  if (window.htmx) {
    // 409 (conflict), 403 (claim lost) and 422 (invalid) carry a fragment to show; other
    // errors keep the page as it is and the status line says what happened.
    htmx.config.responseHandling = [
      { code: "204", swap: false },
      { code: "[23]..", swap: true },
      { code: "40[39]", swap: true, error: false },
      { code: "422", swap: true, error: false },
      { code: "[45]..", swap: false, error: true },
      { code: "...", swap: false },
    ];
  }

  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));
  const editor = () => $("#editor");
  const typing = (el) => el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));

  /* ---- hints (mirror of annotate/hints.py) ---- */
  const RESPONSE = /\bresponse\s*(?:[12ab]|one|two)\b|\b(?:both|neither) responses?\b/i;
  const RESPONSE_G = /\bresponse\s*(?:[12ab]|one|two)\b|\b(?:both|neither) responses?\b/gi;
  const ANCHOR = /["“”‘`]|\d|\b(?:line|lines|paragraph|sentence|step|steps|section|heading|title|list|bullet|table|code|function|example|word|words|phrase|intro|introduction|conclusion|ending|opening|first|second|third|last|final|column|row|variable|loop|formula|answer|claim|date|name|number|unit|link|citation|translation|summary)\b/i;
  const SPECIFIC = /\b(?:says|states|claims|recommends|suggests|advises|tells|uses|gives|gets|computes|converts|returns|raises|throws|calls|deletes|ignores|omits|skips|misses|adds|includes|mentions|explains|names|lists|cites|quotes|translates|replaces|keeps|breaks|follows|violates|exceeds|contradicts|misspells|defines|confuses|sorts|mutates|crashes|fails|invents|answers|asks|addresses|covers|notes|applies|treats|assumes|swaps|moves|drops|attributes|catches|loads|writes|renders|shows|streams|hides|checks|reads|spells)\b|\w\(|\w\.\w|\w_\w|[€$£%°=×−+<>]|'[^']+'|[^\x00-\u024f]|(?<=[a-z,;:] )[A-Z][\w'-]+/;
  const MULTI = /;|[.!?]\s+[A-Z]|,\s*and\b|\bbut\b|\bas well as\b|\balso\b|\bwhile\b/i;
  function hintsFor(text) {
    text = text.trim();
    if (!text) return [];
    const out = [];
    if (!RESPONSE.test(text)) out.push("Say which response this is about (Response 1 or Response 2).");
    const rest = text.replace(RESPONSE_G, "");
    if (text.split(/\s+/).length < 5 || !(ANCHOR.test(rest) || SPECIFIC.test(rest)))
      out.push("Vague: point at a specific part of a response (a line, step, quote or fact).");
    if (MULTI.test(text)) out.push("Looks like more than one claim: split it into separate atoms.");
    return out;
  }
  function showHints(li) {
    const ul = $(".ws-hints", li);
    const ta = $("textarea", li);
    if (!ul || !ta) return;
    ul.replaceChildren(...hintsFor(ta.value).map((h) => {
      const item = document.createElement("li");
      item.textContent = h;
      return item;
    }));
  }

  /* ---- atom rows ---- */
  function rows() { return $$("#atoms > li.ws-atom"); }
  function renumber() {
    rows().forEach((li, i) => {
      const n = i + 1;
      $(".ws-atom-n", li).textContent = "R" + n;
      const ta = $("textarea", li);
      ta.id = "atom-" + n;
      ta.setAttribute("aria-describedby", "hints-" + n);
      $("label", li).htmlFor = ta.id;
      $("label", li).textContent = "Atom " + n;
      $(".ws-hints", li).id = "hints-" + n;
      $('[data-act="up"]', li).setAttribute("aria-label", `Move atom ${n} up`);
      $('[data-act="down"]', li).setAttribute("aria-label", `Move atom ${n} down`);
      $('[data-act="delete"]', li).setAttribute("aria-label", `Delete atom ${n}`);
    });
  }
  function addAtom(after, text) {
    const tpl = $("#atom-template");
    if (!tpl) return null;
    const li = tpl.content.firstElementChild.cloneNode(true);
    $("textarea", li).value = text || "";
    const list = $("#atoms");
    if (after && after.parentNode === list) after.after(li); else list.append(li);
    renumber();
    showHints(li);
    const ta = $("textarea", li);
    ta.focus();
    ta.setSelectionRange(0, 0);
    changed();
    return li;
  }
  function deleteAtom(li, focusPrev) {
    const target = focusPrev ? (li.previousElementSibling || li.nextElementSibling)
                             : (li.nextElementSibling || li.previousElementSibling);
    li.remove();
    renumber();
    changed();
    if (target) {
      const ta = $("textarea", target);
      ta.focus();
      ta.setSelectionRange(ta.value.length, ta.value.length);
    } else {
      ($("#add-atom") || document.body).focus();
    }
  }
  function moveAtom(li, dir) {
    const other = dir < 0 ? li.previousElementSibling : li.nextElementSibling;
    if (!other) return;
    if (dir < 0) other.before(li); else other.after(li);
    renumber();
    changed();
    $("textarea", li).focus();
  }
  function focusAtom(li, atEnd) {
    if (!li) return;
    const ta = $("textarea", li);
    ta.focus();
    const pos = atEnd ? ta.value.length : 0;
    ta.setSelectionRange(pos, pos);
  }

  /* ---- saving ---- */
  function status(text, kind) {
    const el = $("#save-status");
    if (!el) return;
    el.textContent = text;
    el.classList.remove("ok", "bad", "pending");
    if (kind) el.classList.add(kind);
  }
  function changed() {
    if (!editor()) return;
    state.dirty = true;
    state.edits += 1;
    if (!state.conflict && !state.stopped) status("Unsaved changes…", "pending");
    clearTimeout(state.timer);
    state.timer = setTimeout(save, SAVE_DELAY_MS);
  }
  function save() {
    clearTimeout(state.timer);
    const form = editor();
    if (!form || state.conflict || state.stopped) return;
    htmx.trigger(form, "autosave");
  }
  function flushThen(fn) {
    if (!state.dirty || state.conflict || state.stopped) { fn(); return; }
    state.afterSave.push(fn);
    save();
  }

  document.addEventListener("htmx:beforeRequest", (e) => {
    if (e.detail.elt === editor()) state.sentEdits = state.edits;
  });
  document.addEventListener("htmx:afterRequest", (e) => {
    const form = editor();
    if (!form || e.detail.elt !== form) return;
    const xhr = e.detail.xhr;
    const code = xhr ? xhr.status : 0;
    if (code >= 200 && code < 300) {
      state.retry = 0;
      if (state.edits === state.sentEdits) state.dirty = false;
      const next = state.afterSave.splice(0);
      if (!state.dirty) next.forEach((fn) => fn()); else state.afterSave.push(...next);
    } else if (code === 409) {
      state.conflict = true;
      const box = $("#conflict");
      if (box) box.scrollIntoView({ block: "nearest" });
      status("Not saved: this checklist changed elsewhere. Your text is still here; see below.", "bad");
    } else if (code === 403 || code === 422) {
      state.stopped = code === 403;
    } else {
      const wait = RETRY_MS[Math.min(state.retry, RETRY_MS.length - 1)];
      state.retry += 1;
      const why = code ? `the server answered ${code}` : "the server could not be reached";
      status(`Not saved: ${why}. Your text is still here; retrying in ${wait / 1000} s.`, "bad");
      clearTimeout(state.timer);
      state.timer = setTimeout(save, wait);
    }
  });
  document.addEventListener("htmx:afterSwap", (e) => {
    if (e.detail.target && e.detail.target.id === "workspace") {
      Object.assign(state, { dirty: false, edits: 0, sentEdits: 0, conflict: false, stopped: false });
      rows().forEach(showHints);
      const accept = $(".suggestion button[value=accept]");
      const last = rows().slice(-1)[0];
      if (accept) accept.focus(); else if (last) focusAtom(last, true);
    }
  });
  window.addEventListener("beforeunload", (e) => {
    if (state.leaving || !editor() || !state.dirty) return;
    e.preventDefault();
    e.returnValue = "";
  });

  /* ---- events ---- */
  document.addEventListener("input", (e) => {
    const li = e.target.closest && e.target.closest("#atoms > li.ws-atom");
    if (li) { showHints(li); changed(); }
  });
  document.addEventListener("click", (e) => {
    const btn = e.target.closest("button[data-act]");
    if (btn) {
      const li = btn.closest("li.ws-atom");
      const act = btn.dataset.act;
      if (act === "add") addAtom(null);
      else if (act === "delete" && li) deleteAtom(li, false);
      else if (act === "up" && li) moveAtom(li, -1);
      else if (act === "down" && li) moveAtom(li, 1);
      return;
    }
    if (e.target.closest("[data-shortcuts-open]")) toggleShortcuts();
  });
  document.addEventListener("submit", (e) => {
    const form = e.target;
    if (form.matches("[data-keep-mine]") && editor()) {
      // Keep mine: the editor already holds my atoms; save them on top of the newer revision.
      e.preventDefault();
      $("#version").value = $("input[name=version]", form).value;
      $("#conflict").replaceChildren();
      $("#conflict").className = "";
      state.conflict = false;
      state.dirty = true;
      save();
      focusAtom(rows()[0], true);
      return;
    }
    state.leaving = true;  // a real navigation (submit, next, claim): no unload warning
  });
  document.addEventListener("keydown", (e) => {
    const ta = e.target;
    const li = ta.closest && ta.closest("#atoms > li.ws-atom");
    if (li && ta.tagName === "TEXTAREA") { atomKeys(e, li, ta); if (e.defaultPrevented) return; }
    globalKeys(e);
  });

  function atomKeys(e, li, ta) {
    const atStart = ta.selectionStart === 0 && ta.selectionEnd === 0;
    const atEnd = ta.selectionStart === ta.value.length;
    if (e.key === "Enter" && !e.shiftKey && !e.ctrlKey && !e.metaKey && !e.altKey) {
      e.preventDefault();
      const rest = ta.value.slice(ta.selectionEnd);
      ta.value = ta.value.slice(0, ta.selectionStart).trimEnd();
      showHints(li);
      addAtom(li, rest.trimStart());
    } else if (e.key === "Backspace" && ta.value === "") {
      e.preventDefault();
      deleteAtom(li, true);
    } else if (e.altKey && (e.key === "ArrowUp" || e.key === "ArrowDown")) {
      e.preventDefault();
      moveAtom(li, e.key === "ArrowUp" ? -1 : 1);
    } else if (e.key === "ArrowUp" && atStart && li.previousElementSibling) {
      e.preventDefault();
      focusAtom(li.previousElementSibling, true);
    } else if (e.key === "ArrowDown" && atEnd && li.nextElementSibling) {
      e.preventDefault();
      focusAtom(li.nextElementSibling, false);
    } else if (e.key === "Escape") {
      e.preventDefault();
      const ws = $("#workspace");
      if (ws) ws.focus(); else ta.blur();
    }
  }

  function clickFirst(selector) {
    const el = $(selector);
    if (el) { el.click(); return true; }
    return false;
  }

  function globalKeys(e) {
    const mod = e.ctrlKey || e.metaKey;
    if (mod && e.key === "Enter" && editor()) {
      e.preventDefault();
      clickFirst("#submit-checklist");
      return;
    }
    if (mod && (e.key === "s" || e.key === "S") && editor()) {
      e.preventDefault();
      state.dirty = true;
      save();
      return;
    }
    if (mod || e.altKey || typing(document.activeElement)) return;
    const dialog = $("#shortcuts");
    if (e.key === "?") { e.preventDefault(); toggleShortcuts(); return; }
    if (dialog && dialog.open) return;
    switch (e.key) {
      case "n": case "N":
        e.preventDefault();
        flushThen(() => clickFirst("#claim-next"));
        break;
      case "a": case "A":
        if (editor()) { e.preventDefault(); addAtom(null); }
        break;
      case "y": case "Y":
        if (clickFirst(".suggestion button[value=accept]")) e.preventDefault();
        break;
      case "x": case "X":
        if (clickFirst(".suggestion button[value=reject]")) e.preventDefault();
        break;
      case "h": case "H": {
        const link = $("[data-shortcut=h]");
        if (link) { e.preventDefault(); flushThen(() => { state.leaving = true; link.click(); }); }
        break;
      }
      case "j": case "k": {
        const list = rows();
        if (!list.length) break;
        e.preventDefault();
        focusAtom(e.key === "j" ? list[0] : list[list.length - 1], true);
        break;
      }
    }
  }

  function toggleShortcuts() {
    const dialog = $("#shortcuts");
    if (!dialog) return;
    if (dialog.open) dialog.close(); else dialog.showModal();
  }

  document.addEventListener("DOMContentLoaded", () => rows().forEach(showHints));
})();

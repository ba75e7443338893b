// The workspace's page script (served in the page head by the Gradio mount).
//
// - Live badges: while the agent edits a draft, its card's badges show the checks of the edited text. One request
//   per pause in typing (debounced; nothing is sent while an input method is composing), answered by
//   /ui/live-check against what the draft itself was checked against; a stale answer is dropped.
// - Keyboard: Enter drafts (Shift+Enter is a new line; an Enter that commits an input method's candidate never
//   drafts), Alt+1…5 adopts draft N, Alt+B edits and Alt+J rejects the current draft (the one holding the focus,
//   else the first), Ctrl+Enter in a draft adopts it, Alt+R redrafts, Esc goes back to the message box.
// - Copy: every card has a copy button, and adopting a draft copies its text too (the agent sends in another
//   window).
(() => {
  const DEBOUNCE_MS = Number("{debounce}");
  const timers = {}, seq = {}, typedAt = {};
  const endpoint = () => location.pathname.replace(/\/+$/, "") + "/live-check";
  const $ = (sel) => document.querySelector(sel);
  const el = (tag, cls, text) => { const e = document.createElement(tag); if (cls) e.className = cls;
                                   if (text) e.textContent = text; return e; };

  // ---------------------------------------------------------------- live badges
  function render(box, data, ms) {
    const badges = box.querySelector(".badges"), fails = box.querySelector(".fails");
    badges.replaceChildren(); fails.replaceChildren();
    const failed = data.checks.filter((c) => !c.passed);
    if (!failed.length) {
      const b = el("span", "badge ok", "✓ 规则 " + data.checks.length + "/" + data.checks.length);
      b.title = data.checks.map((c) => "✓ " + c.name).join("\n"); badges.append(b);
    }
    for (const c of failed) {
      const b = el("span", "badge bad", "✗ " + c.name); b.title = c.detail; badges.append(b);
      fails.append(el("div", "notice", "✗ " + c.name + "：" + c.detail));
    }
    badges.append(el("span", "live-note", "按修改后的文字检查"));
    box.dataset.livePassed = String(data.passed);
    box.dataset.liveMs = String(Math.round(ms));
    box.dispatchEvent(new CustomEvent("live-badges", {bubbles: true, detail: {passed: data.passed, ms}}));
  }
  async function run(i, text) {
    const box = $("#card-checks-" + i + " .checks[data-live]");
    if (!box || !text.trim()) return;
    const n = (seq[i] = (seq[i] || 0) + 1);
    try {
      const r = await fetch(endpoint(), {method: "POST", credentials: "same-origin",
        headers: {"Content-Type": "application/json"}, body: JSON.stringify({token: box.dataset.live, reply: text})});
      const data = await r.json();
      if (n !== seq[i]) return;  // the agent typed again: a newer answer is on its way
      if (!r.ok) {
        box.querySelector(".fails").replaceChildren(
          el("div", "notice", "实时检查不可用：" + ((data.error && data.error.message) || r.status) + "（采用时仍会检查）"));
        return;
      }
      render(box, data, performance.now() - typedAt[i]);
    } catch (e) { /* offline or server restarting: the badges keep their last state */ }
  }
  function changed(e) {
    const t = e.target;
    if (!(t instanceof HTMLTextAreaElement) || e.isComposing) return;  // an input method is still composing
    const holder = t.closest("[id^='edit-']");
    if (!holder) return;
    const i = holder.id.slice(5);
    typedAt[i] = performance.now();
    clearTimeout(timers[i]);
    timers[i] = setTimeout(() => run(i, t.value), DEBOUNCE_MS);
  }
  document.addEventListener("input", changed, true);
  document.addEventListener("compositionend", changed, true);

  // ---------------------------------------------------------------- copy
  async function copyText(text) {
    try { await navigator.clipboard.writeText(text); return true; } catch (e) { /* not a secure context */ }
    const t = el("textarea"); t.value = text; t.style.position = "fixed"; t.style.opacity = "0";
    document.body.append(t); t.select();
    let ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    t.remove();
    return ok;
  }
  const draftText = (i) => { const t = $("#edit-" + i + " textarea"); return t ? t.value : ""; };
  function flash(button, text) {
    const before = button.dataset.label || button.textContent;
    button.dataset.label = before; button.textContent = text;
    setTimeout(() => { button.textContent = before; }, 1200);
  }
  document.addEventListener("click", async (e) => {
    const copy = e.target.closest && e.target.closest(".copy-btn");
    if (copy) {
      e.preventDefault();
      const ok = await copyText(draftText(copy.dataset.card));
      flash(copy, ok ? "已复制" : "复制失败，请手动选中");
      return;
    }
    const adopt = e.target.closest && e.target.closest("[id^='adopt-']");
    if (adopt) copyText(draftText(adopt.id.slice(6)));  // adopting copies too; the click goes on to the server
  }, true);

  // ---------------------------------------------------------------- keyboard
  const visible = (node) => node && node.offsetParent !== null;
  const message = () => $("#buyer-message textarea");
  function currentCard() {
    const holder = document.activeElement && document.activeElement.closest("[id^='card-']");
    if (holder) return holder.id.replace(/^card-(\w+-)?/, "");
    for (let i = 0; i < 5; i++) if (visible($("#card-" + i))) return String(i);
    return null;
  }
  const press = (sel) => { const b = $(sel); if (visible(b)) { b.click(); return true; } return false; };
  document.addEventListener("keydown", (e) => {
    const t = e.target;
    if (e.key === "Enter" && (e.isComposing || e.keyCode === 229)) {
      // the Enter that commits an input method's candidate: never a draft
      if (t.closest && t.closest("#buyer-message")) e.stopImmediatePropagation();
      return;
    }
    if (e.key === "Enter" && e.ctrlKey && t.closest && t.closest("[id^='edit-']")) {
      e.preventDefault(); e.stopImmediatePropagation();
      press("#adopt-" + t.closest("[id^='edit-']").id.slice(5));
      return;
    }
    if (e.key === "Escape") { const m = message(); if (m) { m.focus(); } return; }
    if (!e.altKey || e.ctrlKey || e.metaKey) return;
    const digit = /^Digit([1-5])$/.exec(e.code);
    let done = false;
    if (digit) done = press("#adopt-" + (Number(digit[1]) - 1));
    else if (e.code === "KeyB") { const i = currentCard(); const box = i && $("#edit-" + i + " textarea");
                                  if (box) { box.focus(); done = true; } }
    else if (e.code === "KeyJ") { const i = currentCard(); const box = i && $("#reason-" + i + " textarea, #reason-" + i + " input");
                                  if (box) { box.focus(); done = true; } }
    else if (e.code === "KeyR") done = press("#redraft-button");
    if (done) { e.preventDefault(); e.stopPropagation(); }
  }, true);
  window.copilotFocusMessage = () => { const m = message(); if (m) m.focus(); };
})();

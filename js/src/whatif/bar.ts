/**
 * The edit bar under a kernel-backed widget: the answer in a text box and a "what if" button, a busy
 * line while the kernel works, the kernel's error as text; on a page no kernel answers (the offline
 * page), a note instead. Browser-only state: what is typed here is sent only on "what if".
 */

import { h } from "../views/dom";
import type { WhatIfStatus } from "./model";

export const OFFLINE_NOTE = "Editing the answer needs a running kernel.";

export interface BarActions {
  run(text: string): void;
  show(): void; // back to the last what-if
}

export class EditBar {
  readonly el: HTMLElement;
  private readonly text = h("textarea", { class: "tam-whatif-text", role: "whatif-text", attrs: { rows: "2", "aria-label": "the answer, to edit", "data-lm-suppress-shortcuts": "true" } });
  private readonly run = h("button", { class: "tam-whatif-run", role: "whatif-run", text: "what if", attrs: { type: "button", title: "Explain the same image and prompt with this answer, beside the old one" } });
  private readonly show = h("button", { role: "whatif-show", text: "show the last what-if", attrs: { type: "button", hidden: "" } });
  private readonly busy = h("span", { class: "tam-muted", role: "whatif-busy", text: "explaining…", attrs: { hidden: "" } });
  private readonly error = h("p", { class: "tam-error", role: "whatif-error", attrs: { hidden: "", "aria-live": "polite" } });
  private filled = false;

  constructor(status: WhatIfStatus | null, actions: BarActions) {
    if (!status) {
      this.el = h("p", { class: "tam-muted tam-whatif-offline", role: "whatif-offline", text: `${OFFLINE_NOTE} This page shows what was computed when it was saved.` });
      return;
    }
    this.run.addEventListener("click", () => actions.run(this.text.value));
    this.show.addEventListener("click", () => actions.show());
    const head = h("div", { class: "tam-whatif-head" }, [h("span", { class: "tam-control-label", text: "Edit answer" }), this.run, this.show, this.busy]);
    this.el = h("section", { class: "tam-whatif-bar", role: "whatif" }, [head, this.text, this.error]);
    this.update(status, false, false);
  }

  /** Show a message of the page's own (the kernel did not answer), as text. */
  fail(message: string): void {
    this.error.textContent = message;
    this.error.hidden = false;
  }

  /** Show the kernel's status; `busy`: a request of this page is in flight; `last`: a what-if to go back to. */
  update(status: WhatIfStatus | null, busy: boolean, last: boolean): void {
    if (!status) return;
    if (!this.filled) {
      this.text.value = status.answer;
      this.filled = true;
    }
    this.run.disabled = busy;
    this.busy.hidden = !busy;
    this.show.hidden = !last;
    this.error.textContent = status.error; // text only: a message is never markup
    this.error.hidden = busy || status.error === "";
  }
}

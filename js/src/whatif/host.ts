/**
 * What-if in the single widget: the edit bar (bar.ts) under the view; on the kernel's answer the
 * view switches to the comparison of the old and the new explanation (the unchanged CompareApp on
 * compare-model.ts), with a way back. One request in flight at a time: others are ignored until
 * the kernel answers (its status names the request it is about).
 */

import { CompareApp } from "../compare/app";
import { keepKeys } from "../keys";
import type { WidgetModel } from "../model";
import { h } from "../views/dom";
import { EditBar } from "./bar";
import { WhatIfCompareModel } from "./compare-model";
import { payloadOf, statusOf, type WhatIfRequest } from "./model";

/** How long a request waits for the kernel before the page gives up (a notebook reopened without
 * its kernel still carries the kernel's status, but nothing will answer). */
export const WAIT_MS = 120_000;
export const NO_ANSWER = "No answer from the kernel in 2 minutes: run the cell again if the notebook was reopened, or check that the kernel is running.";

export class WhatIfHost {
  readonly el = h("div", { class: "tam-whatif" });
  private readonly bar: EditBar;
  private readonly back = h("button", { class: "tam-whatif-back", role: "whatif-back", text: "back to the single view", attrs: { type: "button" } });
  private readonly compare = h("div", { class: "tam-compare", role: "compare" });
  private readonly view = h("div", { class: "tam-whatif-compare", role: "whatif-compare", attrs: { hidden: "" } }, [this.back, this.compare]);
  private readonly cleanups: (() => void)[] = [];
  private app: CompareApp | null = null;
  private sent = 0; // the last request's number
  private pending = false;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly model: WidgetModel,
    private readonly single: HTMLElement,
  ) {
    this.bar = new EditBar(statusOf(model), { run: (text) => this.request({ what_if: text }), show: () => this.open() });
    this.el.append(this.bar.el, this.view);
    this.back.addEventListener("click", () => this.close());
    // read-only handle for tests: the comparison on show
    Object.defineProperty(this.compare, "tamCompare", { value: { snapshot: () => this.app?.snapshot() ?? null }, configurable: true });
    this.listen("change:_what_if_status", () => this.onStatus());
    this.listen("change:_what_if", () => this.open());
    this.cleanups.push(keepKeys(this.el));
    this.onStatus();
  }

  /** Whether the page can ask for a what-if (a kernel answers it). */
  get live(): boolean {
    return statusOf(this.model) !== null;
  }

  /** Ask the kernel to put token `id` at answer item `item` and go on from there. */
  continueWith(item: number, id: number): void {
    this.request({ continue_with: [item, id] });
  }

  private request(body: { what_if: string } | { continue_with: [number, number] }): void {
    if (this.pending || !this.live) return; // one at a time
    this.pending = true;
    this.sent = Math.max(this.sent, statusOf(this.model)?.request ?? 0) + 1;
    this.model.send({ ...body, request: this.sent } as WhatIfRequest);
    this.timer = setTimeout(() => this.giveUp(), WAIT_MS);
    this.onStatus();
  }

  /** The kernel never answered: stop waiting, say so, let the user try again. */
  private giveUp(): void {
    this.timer = null;
    if (!this.pending) return;
    this.pending = false;
    this.onStatus();
    this.bar.fail(NO_ANSWER);
  }

  private onStatus(): void {
    const status = statusOf(this.model);
    if (this.pending && status && status.request >= this.sent && !status.busy) {
      this.pending = false;
      if (this.timer !== null) clearTimeout(this.timer);
      this.timer = null;
    }
    this.bar.update(status, this.pending || Boolean(status?.busy), payloadOf(this.model) !== null);
    this.el.classList.toggle("is-busy", this.pending);
    this.single.classList.toggle("tam-whatif-busy", this.pending); // its "continue with this" buttons wait too
  }

  /** Show the last what-if beside the explanation. */
  private open(): void {
    this.app?.dispose();
    this.app = null;
    this.compare.replaceChildren();
    if (!payloadOf(this.model)) return this.close();
    try {
      this.app = new CompareApp(new WhatIfCompareModel(this.model).asModel(), this.compare);
    } catch (err) {
      console.error("tam-widget:", err);
      this.compare.appendChild(h("div", { class: "tam-error", role: "error", text: `tam-widget could not show this what-if: ${String(err)}` }));
    }
    this.single.hidden = true;
    this.bar.el.hidden = true;
    this.view.hidden = false;
    this.onStatus();
  }

  /** Back to the single view (the comparison is kept: "show the last what-if" reopens it). */
  private close(): void {
    this.app?.dispose();
    this.app = null;
    this.compare.replaceChildren();
    this.single.hidden = false;
    this.bar.el.hidden = false;
    this.view.hidden = true;
  }

  private listen(event: string, fn: () => void): void {
    this.model.on(event, fn);
    this.cleanups.push(() => this.model.off(event, fn));
  }

  dispose(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    for (const fn of this.cleanups) fn();
    this.app?.dispose();
    this.el.remove();
  }
}

// @vitest-environment jsdom
import { describe, expect, it, vi } from "vitest";
import type { CompareSnapshot } from "../src/compare/app";
import { OFFLINE_NOTE } from "../src/whatif/bar";
import { NO_ANSWER, WAIT_MS } from "../src/whatif/host";
import type { WhatIfStatus } from "../src/whatif/model";
import { type FakeModel, fakeModel } from "./helpers";
import { mountHooks, mountModel, oneWordMore, sideA, sideB } from "./mount";

const STATUS: WhatIfStatus = { kernel: true, busy: false, error: "", request: 0, answer: "a red shape ." };
function mount(status: WhatIfStatus | undefined): { model: FakeModel; el: HTMLElement } {
  const c = sideA();
  c.meta.top = c.meta.top.map((row) => row.map((cand, k) => ({ ...cand, id: 100 + k })));
  const model = fakeModel(c, { selected: 4 });
  if (status) Object.assign(model.values, { _what_if: {}, _what_if_status: status, _what_if_data: new DataView(new ArrayBuffer(0)), _what_if_images: [] });
  return mountModel(model);
}

/** What the kernel sends back on success: side b (another synthetic case) and the alignment. */
function answer(model: FakeModel, request: number): void {
  const b = sideB();
  const compare = oneWordMore();
  model.values._what_if_data = new DataView(b.data);
  model.values._what_if_images = b.images;
  model.set("_what_if", { compare, meta: b.meta, row: 5, request });
  model.set("_what_if_status", { ...STATUS, request });
}

const role = (el: HTMLElement, r: string) => el.querySelector<HTMLElement>(`[data-role="${r}"]`) as HTMLElement;

mountHooks();

describe("what-if from the page", () => {
  it("says editing needs a kernel where none answers (the offline page), and offers no edit", () => {
    const { el } = mount(undefined);
    expect(role(el, "whatif-offline").textContent).toContain(OFFLINE_NOTE);
    expect(el.querySelector('[data-role="whatif-text"]')).toBeNull();
    expect(el.querySelector('[data-role="candidate-continue"]')).toBeNull();
  });

  it("sends the edited answer, one request at a time, and switches to the comparison on the answer", () => {
    const { model, el } = mount(STATUS);
    const text = role(el, "whatif-text") as HTMLTextAreaElement;
    expect(text.value).toBe("a red shape .");
    text.value = "a blue shape .";
    const run = role(el, "whatif-run") as HTMLButtonElement;
    run.click();
    expect(model.sent).toEqual([{ what_if: "a blue shape .", request: 1 }]);
    expect(run.disabled).toBe(true);
    expect(role(el, "whatif-busy").hidden).toBe(false);
    run.click();
    (el.querySelector('[data-role="candidate-continue"]') as HTMLElement).click();
    expect(model.sent.length).toBe(1); // busy: ignored
    answer(model, 1);
    expect(role(el, "whatif-compare").hidden).toBe(false);
    expect((el.querySelector(".tam-widget:not([data-side])") as HTMLElement).hidden).toBe(true);
    expect(el.querySelectorAll('[data-side="b"] [data-role="token"]').length).toBe(8);
    const snap = (el.querySelector(".tam-whatif .tam-compare") as unknown as { tamCompare: { snapshot(): CompareSnapshot } }).tamCompare.snapshot();
    expect(snap.row).toBe(5); // the row of the item selected in the single view (4 on side a)
    role(el, "whatif-back").click();
    expect(role(el, "whatif-compare").hidden).toBe(true);
    expect((el.querySelector(".tam-widget:not([data-side])") as HTMLElement).hidden).toBe(false);
    expect(run.disabled).toBe(false);
    expect(role(el, "whatif-show").hidden).toBe(false); // the way back to it
  });

  it("continues with a candidate and shows the kernel's error as text, nothing else changing", () => {
    const { model, el } = mount(STATUS);
    const buttons = el.querySelectorAll<HTMLElement>('[data-role="candidate-continue"]');
    expect(buttons.length).toBe(2); // the chosen token has none
    buttons[0].click();
    expect(model.sent).toEqual([{ continue_with: [4, 101], request: 1 }]);
    model.set("_what_if_status", { ...STATUS, request: 1, error: "<img src=x onerror=alert(1)> bad" });
    const error = role(el, "whatif-error");
    expect(error.hidden).toBe(false);
    expect(error.textContent).toBe("<img src=x onerror=alert(1)> bad");
    expect(error.querySelector("img")).toBeNull();
    expect(role(el, "whatif-compare").hidden).toBe(true);
    expect((role(el, "whatif-run") as HTMLButtonElement).disabled).toBe(false);
  });

  it("stops waiting when no kernel answers (a reopened notebook), says so, and lets the user try again", () => {
    vi.useFakeTimers();
    try {
      const { model, el } = mount(STATUS);
      const run = role(el, "whatif-run") as HTMLButtonElement;
      run.click();
      expect(run.disabled).toBe(true);
      vi.advanceTimersByTime(WAIT_MS - 1);
      expect(run.disabled).toBe(true);
      vi.advanceTimersByTime(1);
      expect(run.disabled).toBe(false);
      expect(role(el, "whatif-error").textContent).toBe(NO_ANSWER);
      expect(role(el, "whatif-error").hidden).toBe(false);
      run.click();
      expect(model.sent.length).toBe(2); // a new request goes out
    } finally {
      vi.useRealTimers();
    }
  });
});

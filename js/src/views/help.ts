/**
 * The "?" button and its popover: what the map, ECI, the rank Gaussian filter and the text shading
 * mean, in a sentence or two each, with the paper linked. The button toggles it; Escape or a
 * click outside closes it (and Escape gives the focus back to the button).
 */

import { h } from "./dom";

export const PAPER_URL = "https://arxiv.org/abs/2506.23270";

/** A link to the paper, opened in a new tab. */
export function paperLink(text: string, role = "paper-link", cls = "tam-paper-link"): HTMLAnchorElement {
  return h("a", { class: cls, role, text, attrs: { href: PAPER_URL, target: "_blank", rel: "noopener noreferrer" } });
}

/** One paragraph: a bold term, then plain sentences (text nodes only). */
function entry(term: Node[], text: string): HTMLElement {
  return h("p", {}, [h("strong", {}, term), document.createTextNode(` ${text}`)]);
}

function helpText(): HTMLElement[] {
  return [
    entry(
      [paperLink("Token Activation Map"), document.createTextNode(" (TAM, Li et al., ICCV 2025).")],
      "For each token, how strongly its row of the LM head activates on the last hidden states of the vision tokens: one value per image patch, shown over the image.",
    ),
    entry(
      [document.createTextNode("ECI (estimated causal inference).")],
      "Earlier tokens' maps leak into later ones; ECI subtracts that interference, their maps weighted by relevance and scaled by least squares (sᵥ). λ is the ECI slider: 1 is the paper, 0 is plain CAM.",
    ),
    entry(
      [document.createTextNode("Rank Gaussian filter.")],
      "Denoises the map by rank statistics: each cell becomes a mean of its k×k window that weighs the middle ranks most, so isolated spikes and holes fade.",
    ),
    entry(
      [document.createTextNode("Text shading.")],
      "The amber shade on earlier tokens is their relevance to the shown token (darker: more relevant); the most relevant (up to three) are underlined. Faded tokens with a dotted line have no visual signal. Hover or focus a token for its id, probability, map peak and sᵥ.",
    ),
  ];
}

let popovers = 0; // a unique id per popover, for aria-controls

export class HelpPopover {
  readonly el: HTMLElement;
  private readonly button: HTMLButtonElement;
  private readonly panel: HTMLElement;

  constructor() {
    const id = `tam-help-${++popovers}`;
    this.button = h("button", {
      class: "tam-help-button",
      role: "help-button",
      text: "?",
      attrs: { type: "button", "aria-label": "What am I looking at?", title: "What am I looking at?", "aria-expanded": "false", "aria-controls": id },
    });
    this.panel = h("div", { class: "tam-help-panel", role: "help", attrs: { id, role: "dialog", "aria-label": "About this view", hidden: "" } }, helpText());
    this.el = h("span", { class: "tam-help" }, [this.button, this.panel]);
    this.button.addEventListener("click", this.toggle);
  }

  get isOpen(): boolean {
    return !this.panel.hidden;
  }

  open(): void {
    if (this.isOpen) return;
    this.panel.hidden = false;
    this.button.setAttribute("aria-expanded", "true");
    this.el.ownerDocument.addEventListener("keydown", this.onKey);
    this.el.ownerDocument.addEventListener("pointerdown", this.onPointer);
  }

  close(): void {
    if (!this.isOpen) return;
    this.panel.hidden = true;
    this.button.setAttribute("aria-expanded", "false");
    this.el.ownerDocument.removeEventListener("keydown", this.onKey);
    this.el.ownerDocument.removeEventListener("pointerdown", this.onPointer);
  }

  dispose(): void {
    this.close();
    this.button.removeEventListener("click", this.toggle);
  }

  private readonly toggle = () => (this.isOpen ? this.close() : this.open());

  private readonly onKey = (e: KeyboardEvent) => {
    if (e.key !== "Escape") return;
    this.close();
    this.button.focus();
  };

  private readonly onPointer = (e: Event) => {
    if (!(e.target instanceof Node && this.el.contains(e.target))) this.close();
  };
}

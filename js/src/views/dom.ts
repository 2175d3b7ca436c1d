/** Building DOM nodes. Text only ever goes in through textContent, so token strings stay text. */

interface Props {
  class?: string;
  role?: string; // data-role, the stable hook tests and benchmarks use
  text?: string;
  attrs?: Record<string, string>;
}

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, children: Node[] = []): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (props.class) node.className = props.class;
  if (props.role) node.dataset.role = props.role;
  if (props.text !== undefined) node.textContent = props.text;
  for (const [k, v] of Object.entries(props.attrs ?? {})) node.setAttribute(k, v);
  for (const c of children) node.appendChild(c);
  return node;
}

/** A labelled control: <label class="tam-control"><span>text</span>input</label>. */
export function labelled(text: string, input: HTMLElement, extra: Node[] = []): HTMLLabelElement {
  return h("label", { class: "tam-control" }, [h("span", { class: "tam-control-label", text }), input, ...extra]);
}

/** Whether a token's text is only whitespace ("\n", " ", "\t"...): such a token is shown with visible marks. */
export function isWhitespace(text: string): boolean {
  return text !== "" && text.trim() === "";
}

/**
 * Token text as shown: line breaks as ⏎; a whitespace-only token's spaces and tabs as · (it would
 * otherwise be invisible); tabs inside other text as ⇥; an empty token as ∅. The true text stays
 * in the data and in the tooltip.
 */
export function displayText(text: string, whitespace = isWhitespace(text)): string {
  if (text === "") return "∅";
  const breaks = text.replace(/\r\n|\r|\n/g, "⏎");
  return whitespace ? breaks.replace(/\s/g, "·") : breaks.replace(/\t/g, "⇥");
}

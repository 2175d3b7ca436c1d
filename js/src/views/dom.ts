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

/** Token text as shown: line breaks and tabs made visible, empty tokens marked. */
export function displayText(text: string): string {
  if (text === "") return "∅";
  return text.replace(/\r?\n/g, "↵").replace(/\t/g, "⇥");
}

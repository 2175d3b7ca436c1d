/**
 * The widget keeps its own keys from the host notebook's shortcuts (render() in widget.ts calls keepKeys).
 * Lumino's data-lm-suppress-shortcuts attribute would do it too, but for every key: Shift+Enter (run
 * the cell), Escape and Ctrl+S would stop working while the widget has the focus. A module of its
 * own: the bundle's entry, widget.ts, has the default export only.
 */

/** Keys a focused part of the widget answers itself: move in the token list, a slider or a menu; press a button. */
export const OWN_KEYS: ReadonlySet<string> = new Set(["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "Home", "End", "PageUp", "PageDown", "Enter", " "]);

/**
 * Keep OWN_KEYS (no modifier held) pressed inside `root` from the host's shortcuts; Shift+Enter, Ctrl+S,
 * Escape and the like stay the host's. Notebook 7 runs its Lumino shortcuts on the document in the
 * capture phase (JupyterLab in the bubble phase), before any handler of ours: command mode's ArrowDown
 * would select the next cell and take the focus. A capture listener on the window runs first. On a
 * token it marks the event handled (preventDefault: Lumino 2 skips such events) and the token list
 * still gets it; elsewhere (a slider, a menu, a button) it stops the event, so that the element's own
 * default action still happens. Returns the cleanup.
 */
export function keepKeys(root: HTMLElement): () => void {
  const view = root.ownerDocument.defaultView;
  const guard = (e: KeyboardEvent) => {
    const target = e.target;
    if (!(target instanceof Element) || !root.contains(target) || !OWN_KEYS.has(e.key)) return;
    if (e.altKey || e.ctrlKey || e.metaKey || e.shiftKey) return;
    if (target.closest('[data-role="token"]')) e.preventDefault();
    else e.stopPropagation();
  };
  view?.addEventListener("keydown", guard, true);
  return () => view?.removeEventListener("keydown", guard, true);
}

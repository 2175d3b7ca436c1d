"""One self-contained, offline HTML page for an explanation: the bundle, the data and a tiny host.

The page inlines the widget's ES module and its CSS, the buffer deflated (:func:`pack`; the host
inflates it with the browser's ``DecompressionStream`` in a worker), the images as base64 and the
metadata as JSON, plus a short stand-in for the notebook's model object, so the same ``render`` runs
with nothing fetched. The buffer comes last: the host runs before the browser has parsed it, so the
widget shows the tokens, pictures and controls first and draws the maps once the buffer is inflated
(``_data`` crosses as a promise, ``js/src/pending.ts``). Every string reaches the page through JSON
with ``<`` escaped, and the widget writes token text with ``textContent``, so token text stays text.

Defence in depth: the Content-Security-Policy fetches nothing and runs exactly one inline
script, the host below, allowed by its SHA-256 (any other inline script, injected or added to
the file later, is refused); ``blob:`` is allowed for the one module the host imports and the
worker that inflates. The view settings are checked by the widget's own checks
(:func:`~tam_widget.display.widget.check_view`).
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import os
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .bundle import bundle, css
from .widget import check_view_traits, view_defaults
from .wire import encode

if TYPE_CHECKING:
    from ..diagnosis import Diagnosis
    from ..explanation import Explanation

HOST = """(async () => {
performance.mark("tam-start");
const state = JSON.parse(document.getElementById("tam-state").textContent);
const bytes = (b64) => {
  let a;
  if (typeof Uint8Array.fromBase64 === "function") a = Uint8Array.fromBase64(b64);  // native (Chromium 140+)
  else { const s = atob(b64); a = new Uint8Array(s.length); for (let i = 0; i < s.length; i++) a[i] = s.charCodeAt(i); }
  return new DataView(a.buffer);
};
// a key named in state.deflated crossed as deflate of its 4 byte planes (html.py pack): inflate, interleave
const unpack = async (packed) => {
  const stream = new Blob([packed]).stream().pipeThrough(new DecompressionStream("deflate"));
  const planes = new Uint8Array(await new Response(stream).arrayBuffer());
  const n = planes.length >> 2, out = new Uint32Array(n);  // little-endian words: plane p is byte p
  const [p0, p1, p2, p3] = [0, 1, 2, 3].map((p) => planes.subarray(p * n, (p + 1) * n));
  for (let i = 0; i < n; i++) out[i] = p0[i] | (p1[i] << 8) | (p2[i] << 16) | (p3[i] << 24);
  return out.buffer;
};
// in a worker, so the page's first view shows meanwhile; here where no worker can start
const WORKER = `const unpack = ${unpack};
onmessage = (e) => unpack(e.data).then((b) => postMessage(b, [b]), (err) => postMessage(String(err)));`;
const inflate = async (packed) => {
  let worker;
  try { worker = new Worker(URL.createObjectURL(new Blob([WORKER], { type: "text/javascript" }))); }
  catch { return new DataView(await unpack(packed)); }
  const got = await new Promise((resolve) => {
    worker.onmessage = (e) => resolve(e.data);
    worker.onerror = (e) => resolve(String(e.message));
    worker.postMessage(packed, [packed.buffer]);
  });
  worker.terminate();
  if (typeof got === "string") throw new Error(`tam-widget: the page's data could not be inflated: ${got}`);
  return new DataView(got);
};
const deflated = new Set(state.deflated ?? []);
const load = (k, b64) => (deflated.has(k) ? inflate(bytes(b64)) : bytes(b64));
const values = { ...state.traits, _images: state.images.map(bytes), _meta: state.meta };
for (const [k, v] of Object.entries(state.bytes ?? {})) {
  values[k] = await (Array.isArray(v) ? Promise.all(v.map((b) => load(k, b))) : load(k, v));
}
const listeners = new Map();
const model = {
  get: (k) => values[k],
  set: (k, v) => { values[k] = v; for (const cb of listeners.get("change:" + k) ?? []) cb(); },
  on: (e, cb) => { if (!listeners.has(e)) listeners.set(e, new Set()); listeners.get(e).add(cb); },
  off: (e, cb) => {
    if (e && cb) listeners.get(e)?.delete(cb); else if (e) listeners.delete(e); else listeners.clear();
  },
  save_changes: () => {}, send: () => {},
};
window.tamModel = model;
const src = document.getElementById("tam-esm").textContent;
const mod = await import(URL.createObjectURL(new Blob([src], { type: "text/javascript" })));
performance.mark("tam-imported");
// the buffer follows this script in the page: the first view (tokens, pictures) shows while the page
// parses and the buffer inflates; the widget takes a pending _data and draws the maps when it comes (js/src/pending.ts)
const parsed = new Promise((r) => {
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", r, { once: true }); else r();
});
values._data = parsed.then(() => load("_data", document.getElementById("tam-data").textContent));
values._data.then((dv) => { values._data = dv; performance.mark("tam-decoded"); }, () => {});
const root = document.getElementById("tam-root");
await mod.default.render({ model, el: root });
performance.mark("tam-shown");
await root.querySelector(".tam-widget")?.tam?.ready().catch(() => {});  // the widget shows why it failed
performance.mark("tam-map");
document.body.dataset.ready = "1";
performance.mark("tam-ready");
})();
"""


# the one inline script the page may run, by its hash (CSP Level 2: base64 of the SHA-256 of the text)
HOST_HASH = "sha256-" + base64.b64encode(hashlib.sha256(HOST.encode("utf-8")).digest()).decode("ascii")
CSP = (
    f"default-src 'none'; script-src '{HOST_HASH}' blob:; style-src 'unsafe-inline'; img-src data: blob:; "
    "base-uri 'none'; form-action 'none'"
)


def _json(value: Any) -> str:
    """Strict JSON (no NaN, which JSON.parse refuses) safe to inline in a <script> element: no '<',
    so no '</script>' or '<!--'."""
    return json.dumps(value, allow_nan=False).replace("<", "\\u003c")


def page(exp: Explanation, title: str | None = None, *, diagnosis: Diagnosis | None = None, **traits: Any) -> str:
    """The HTML text of the page; ``traits`` set the initial view (``selected``, ``eci_scale``...).
    ``diagnosis``: a :class:`~tam_widget.diagnosis.Diagnosis` of ``exp`` the page shows over it."""
    checked = check_view_traits(traits, len(exp.item_positions), list(exp.results), exp.layers)  # before the work
    data, meta, images = encode(exp, diagnosis)
    state = {
        "traits": {**view_defaults(exp), **checked},
        "images": [base64.b64encode(b).decode("ascii") for b in images],
        "meta": meta,
        "deflated": ["_data"],
    }
    name = title or f"TAM: {exp.meta.get('model', '')} — {exp.text[:80]}"
    return document(name, state, pack(data))


def pack(data: bytes) -> str:
    """``data`` (a length divisible by 4, as every wire buffer) as the page carries a key it names in
    ``state["deflated"]``: base64 of the zlib deflate of its 4 byte planes (every 4th byte from the 1st,
    then from the 2nd...), which puts the high bytes of the quantised maps and of the floats together."""
    if len(data) % 4:
        raise ValueError(f"pack takes a buffer of 4-byte words, got {len(data)} bytes.")
    planes = np.frombuffer(data, np.uint8).reshape(-1, 4).T.tobytes()
    return base64.b64encode(zlib.compress(planes, 6)).decode("ascii")


def document(title: str, state: dict[str, Any], data: str) -> str:
    """The page around ``state`` (``traits``, ``meta``, ``images`` as base64, optional ``bytes``: more
    binary traits as base64, optional ``deflated``: the keys among ``_data`` and ``bytes`` that are
    :func:`pack` ed) and ``data`` (the buffer, base64 or packed): the bundle, the CSS and the host."""
    esm = bundle().read_text(encoding="utf-8").replace("</script", "<\\/script")
    style = css().replace("</style", "<\\/style")
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        f'<title>{html.escape(title)}</title><style>{style}</style></head>\n<body>\n<div id="tam-root"></div>\n'
        f'<script type="application/json" id="tam-state">{_json(state)}</script>\n'
        f'<script type="text/plain" id="tam-esm">{esm}</script>\n'
        f"<script>{HOST}</script>\n"
        f'<script type="application/octet-stream" id="tam-data">{data}</script>\n</body></html>\n'
    )


def save_html(
    exp: Explanation, path: str | os.PathLike[str], *, diagnosis: Diagnosis | None = None, **traits: Any
) -> Path:
    """Write :func:`page` to ``path``; returns the path."""
    out = Path(path)
    out.write_text(page(exp, diagnosis=diagnosis, **traits), encoding="utf-8")
    return out

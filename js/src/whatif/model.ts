/**
 * The what-if traits of TAMWidget: mirrors WhatIfWidget in tam_widget/display/whatif_widget.py
 * (kept apart from model.ts, which holds the view and data traits). Kernel-owned: the page only
 * reads them, and asks for a what-if with a custom message (WhatIfRequest).
 */

import type { WireMeta } from "../codec";
import type { CompareMeta } from "../compare/model";

/** The last what-if: side b's wire metadata and the alignment with the explanation (side a). */
export interface WhatIfPayload {
  compare: CompareMeta;
  meta: WireMeta;
  row: number; // the row shown first (compare_widget.py default_row)
  request: number;
}

/** The kernel's answer to the page's requests; absent on a page without a kernel (the offline page). */
export interface WhatIfStatus {
  kernel: boolean;
  busy: boolean;
  error: string; // the last request's error, "" for none
  request: number; // the request the status is about
  answer: string; // the answer's text, to edit
}

export interface WhatIfModel {
  _what_if: WhatIfPayload | Record<string, never>;
  _what_if_data: DataView;
  _what_if_images: DataView[];
  _what_if_status: WhatIfStatus;
}

/** What the page sends (whatif_widget.py check_request). */
export type WhatIfRequest = ({ what_if: string } | { continue_with: [number, number] }) & { request: number };

interface Getter {
  get(key: string): unknown;
}

/** The kernel's status, or null on a page no kernel answers. */
export function statusOf(model: Getter): WhatIfStatus | null {
  const s = model.get("_what_if_status") as WhatIfStatus | undefined;
  return s && typeof s === "object" && s.kernel === true ? s : null;
}

/** The last what-if, or null when there is none. */
export function payloadOf(model: Getter): WhatIfPayload | null {
  const p = model.get("_what_if") as WhatIfPayload | undefined;
  return p && typeof p === "object" && p.compare && Array.isArray(p.compare.rows) && p.meta ? p : null;
}

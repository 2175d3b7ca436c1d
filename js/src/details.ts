/**
 * What the App shows beside the map for the item on show: the legend, the top candidates (buttons
 * where the method on show has candidate maps), the faithfulness curves and, over EAGLE, the
 * hallucination diagnosis (its banner and the removed cells outlined on the panels).
 */

import type { WireMeta } from "./codec";
import type { MethodView } from "./state/methods";
import type { CandidatePick } from "./state/local";
import type { CandidateActions } from "./views/candidates";
import { CandidatesView } from "./views/candidates";
import { CurvesView } from "./views/curves";
import { curveMarker, DiagnosisBanner, outlinedCells } from "./views/diagnosis";
import { h } from "./views/dom";
import type { HeatmapPanel } from "./views/heatmap";
import { Legend } from "./views/legend";

/** What one redraw tells the details beyond the method on show. */
export interface DetailsState {
  shown: number; // the item on show
  pick: CandidatePick | null; // the candidate whose map is on show
  colormap: string;
  caption: string; // the legend's, when the method has none of its own
  reliance: boolean; // the tokens show the method's reliance (EAGLE)
  anyPick: boolean; // another of the page's methods has candidate maps
  decoding: boolean; // the maps are not decoded yet (pending.ts): no candidates yet
}

export class Details {
  private readonly legend = new Legend();
  private readonly candidates: CandidatesView[]; // [with candidate maps, without]: one shows, by the method on show
  private readonly tamOnly = h("p", { class: "tam-muted tam-candidates-hint", role: "candidates-tam-only", text: "Candidate maps and contrasts: TAM only.", attrs: { hidden: "" } });
  private readonly curves = new CurvesView();
  private readonly diagnosis: { banner: DiagnosisBanner; cells: Uint8Array } | null; // meta.diagnosis, shown over EAGLE

  constructor(
    private readonly meta: WireMeta,
    actions: CandidateActions,
  ) {
    const d = meta.diagnosis;
    this.diagnosis = d ? { banner: new DiagnosisBanner(d), cells: outlinedCells(d.removed) } : null;
    this.candidates = [true, false].map((live) => new CandidatesView(meta, actions, live));
  }

  /** The diagnosis banner (above everything), if the page has a diagnosis. */
  get banner(): HTMLElement | null {
    return this.diagnosis?.banner.el ?? null;
  }

  /** The right column's elements below the tokens and the signal strip. */
  get els(): HTMLElement[] {
    return [this.legend.el, ...this.candidates.map((c) => c.el), this.tamOnly, this.curves.el];
  }

  update(view: MethodView, s: DetailsState, panels: readonly HeatmapPanel[]): void {
    const maps = view.method.maps;
    this.legend.update(s.colormap, { caption: maps.caption?.() ?? s.caption, reliance: s.reliance });
    this.showCandidates(view, s);
    const diagnosed = this.diagnosis !== null && view.method.name === "eagle"; // the diagnosis is EAGLE's
    const d = this.meta.diagnosis;
    const mark = diagnosed && d && s.shown === d.item ? curveMarker(d) : null;
    this.curves.update(view.method.impl.title, s.shown, maps.curves ? maps.curves(s.shown) : undefined, this.meta.items[s.shown]?.text ?? "", mark);
    if (!this.diagnosis) return;
    this.diagnosis.banner.show(diagnosed);
    for (const p of panels) p.setOutline(diagnosed ? this.diagnosis.cells : null);
  }

  /** The candidates, as buttons when the shown method has candidate maps; a note when only another method has; none while decoding. */
  private showCandidates(view: MethodView, s: DetailsState): void {
    const live = view.maps.canPick;
    this.candidates.forEach((c, i) => (c.el.hidden = s.decoding || live !== (i === 0)));
    if (s.decoding) return;
    this.candidates[live ? 0 : 1].update(s.shown, s.pick);
    this.tamOnly.hidden = live || !s.anyPick;
  }
}

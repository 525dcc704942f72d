/** Small self-contained SVG line charts (no libraries, no CDN) for the HTML report; points may carry intervals. */

export interface Series {
  name: string;
  points: [number, number][];
  /** An interval [low, high] per point (same order), drawn as a vertical error bar with caps; undefined: none. */
  intervals?: ([number, number] | undefined)[];
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  width?: number;
  height?: number;
  /** Draw markers on every point (for sparse series). */
  markers?: boolean;
  /** Start the y-axis at 0 (default); false fits it to the data, for series that differ by little. */
  yFromZero?: boolean;
  /**
   * Category names for x = 0, 1, …: the x-axis then shows these names (wrapped into lines of up to 16 characters)
   * instead of numeric ticks, with half a category of room at either end.
   */
  categories?: readonly string[];
  /** Draw a dashed line at y = 0 (for differences). */
  zeroLine?: boolean;
  /** Join each series' points with a line (default); false draws markers only, for categories that are no sequence. */
  lines?: boolean;
}

export const PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#b07aa1', '#edc948', '#9c755f'];

const escapeXml = (s: string) => s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);

/** "Nice" tick values covering [lo, hi]. */
export function ticks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => raw <= s)!;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

const format = (v: number) => (Math.abs(v) >= 1000 ? v.toFixed(0) : Number(v.toPrecision(3)).toString());

const LEGEND_ROW = 16;
/** Half-width of an error bar's caps, in pixels. */
export const CAP_HALF_WIDTH = 4;

/** Splits a category name into lines of at most `width` characters at spaces (a longer word stays whole). */
export function wrapLabel(text: string, width = 16): string[] {
  const lines: string[] = [];
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const lastLine = lines[lines.length - 1];
    if (lastLine !== undefined && lastLine.length + 1 + word.length <= width) lines[lines.length - 1] = `${lastLine} ${word}`;
    else lines.push(word);
  }
  return lines;
}
/** Approximate width of 11 px sans-serif text (no font metrics without a browser). */
const textWidth = (text: string) => text.length * 6.2;

/** Positions legend entries (swatch + name) left to right, wrapping to a new row when one would not fit. */
export function legendLayout(names: readonly string[], left: number, right: number): { rows: number; items: { x: number; row: number }[] } {
  const items: { x: number; row: number }[] = [];
  let x = left;
  let row = 0;
  for (const name of names) {
    const w = 14 + textWidth(name) + 16;
    if (x > left && x + w > right) {
      row++;
      x = left;
    }
    items.push({ x, row });
    x += w;
  }
  return { rows: names.length ? row + 1 : 0, items };
}

/** A line chart with axes, ticks, a legend and one polyline per series. */
export function lineChart(series: readonly Series[], options: ChartOptions): string {
  const width = options.width ?? 560;
  const m = { left: 56, right: 16, top: 32, bottom: 48 };
  // the legend sits below the x-axis label, wrapped into rows, so it never covers the plot or itself
  const categoryLines = Math.max(1, ...(options.categories ?? []).map((c) => wrapLabel(c).length));
  if (options.categories) m.bottom += (categoryLines - 1) * 12;
  const legend = legendLayout(series.map((s) => s.name), m.left, width - m.right);
  const plotHeight = (options.height ?? 300) - m.top - m.bottom;
  const height = m.top + plotHeight + m.bottom + legend.rows * LEGEND_ROW;
  const plotBottom = m.top + plotHeight;
  const legendTop = plotBottom + m.bottom;
  const all = series.flatMap((s) => s.points);
  const xs = all.map((p) => p[0]);
  const ys = [...all.map((p) => p[1]), ...series.flatMap((s) => (s.intervals ?? []).flatMap((i) => i ?? []))];
  let [x0, x1] = options.categories ? [-0.5, options.categories.length - 0.5] : [Math.min(...xs), Math.max(...xs)];
  let [y0, y1] = options.yFromZero === false ? [Math.min(...ys), Math.max(...ys)] : [Math.min(0, ...ys), Math.max(...ys)];
  if (options.yFromZero === false && Number.isFinite(y0)) {
    const pad = Math.max((y1 - y0) * 0.1, 1e-3);
    [y0, y1] = [y0 - pad, y1 + pad];
  }
  if (!Number.isFinite(x0)) [x0, x1, y0, y1] = [0, 1, 0, 1];
  if (x1 === x0) x1 = x0 + 1;
  if (y1 === y0) y1 = y0 + 1;
  const px = (x: number) => m.left + ((x - x0) / (x1 - x0)) * (width - m.left - m.right);
  const py = (y: number) => plotBottom - ((y - y0) / (y1 - y0)) * plotHeight;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeXml(options.title)}">`,
    `<title>${escapeXml(options.title)}</title>`,
    `<text x="${width / 2}" y="18" text-anchor="middle" font-size="14" font-weight="600">${escapeXml(options.title)}</text>`,
  ];
  for (const t of ticks(y0, y1)) {
    parts.push(`<line x1="${m.left}" x2="${width - m.right}" y1="${py(t)}" y2="${py(t)}" stroke="#ddd"/>`);
    parts.push(`<text x="${m.left - 6}" y="${py(t) + 4}" text-anchor="end" font-size="11">${format(t)}</text>`);
  }
  if (options.categories) {
    options.categories.forEach((name, i) => {
      const lines = wrapLabel(name).map((line, k) => `<tspan x="${px(i)}" dy="${k === 0 ? 0 : 12}">${escapeXml(line)}</tspan>`).join('');
      parts.push(`<text class="category" x="${px(i)}" y="${plotBottom + 16}" text-anchor="middle" font-size="11">${lines}</text>`);
    });
  } else {
    for (const t of ticks(x0, x1)) {
      parts.push(`<text x="${px(t)}" y="${plotBottom + 16}" text-anchor="middle" font-size="11">${format(t)}</text>`);
    }
  }
  if (options.zeroLine && y0 < 0 && y1 > 0) {
    parts.push(`<line class="zero" x1="${m.left}" x2="${width - m.right}" y1="${py(0).toFixed(1)}" y2="${py(0).toFixed(1)}" stroke="#333" stroke-dasharray="4 3"/>`);
  }
  parts.push(`<line x1="${m.left}" x2="${width - m.right}" y1="${plotBottom}" y2="${plotBottom}" stroke="#333"/>`);
  parts.push(`<line x1="${m.left}" x2="${m.left}" y1="${m.top}" y2="${plotBottom}" stroke="#333"/>`);
  parts.push(`<text x="${(m.left + width - m.right) / 2}" y="${plotBottom + m.bottom - 14}" text-anchor="middle" font-size="12">${escapeXml(options.xLabel)}</text>`);
  parts.push(`<text transform="translate(14 ${(m.top + plotBottom) / 2}) rotate(-90)" text-anchor="middle" font-size="12">${escapeXml(options.yLabel)}</text>`);
  series.forEach((s, i) => {
    const colour = PALETTE[i % PALETTE.length]!;
    const lx = legend.items[i]!.x;
    const ly = legendTop + legend.items[i]!.row * LEGEND_ROW;
    if (s.points.length > 1 && options.lines !== false) {
      const d = s.points.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ');
      parts.push(`<polyline class="series" data-series="${escapeXml(s.name)}" fill="none" stroke="${colour}" stroke-width="2" points="${d}"/>`);
    }
    s.points.forEach(([x], k) => {
      const interval = s.intervals?.[k];
      if (interval === undefined) return;
      const [cx, lo, hi] = [px(x).toFixed(1), py(interval[0]).toFixed(1), py(interval[1]).toFixed(1)];
      const capL = (px(x) - CAP_HALF_WIDTH).toFixed(1);
      const capR = (px(x) + CAP_HALF_WIDTH).toFixed(1);
      parts.push(`<path class="interval" data-series="${escapeXml(s.name)}" stroke="${colour}" stroke-width="1.5" fill="none" ` +
        `d="M${cx},${lo} V${hi} M${capL},${lo} H${capR} M${capL},${hi} H${capR}"><title>${escapeXml(s.name)}: ${format(interval[0])} to ${format(interval[1])}</title></path>`);
    });
    if (options.markers || s.points.length === 1 || options.lines === false) {
      for (const [x, y] of s.points) parts.push(`<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="3.5" fill="${colour}"><title>${escapeXml(s.name)}: ${format(y)}</title></circle>`);
    }
    parts.push(`<rect x="${lx}" y="${ly}" width="10" height="10" fill="${colour}"/>`);
    parts.push(`<text x="${lx + 14}" y="${ly + 9}" font-size="11">${escapeXml(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

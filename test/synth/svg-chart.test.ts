// The report's charts: the legend is laid out below the plot, in rows, without entries overlapping each other
// or running past the right edge.
import { describe, expect, it } from 'vitest';
import { legendLayout, lineChart, wrapLabel } from '../../lib/synth/svg-chart.js';

const NAMES = ['zero-shot', 'LoRA', 'LoRA + DA', 'LoRA + DA + SCST', 'SCST, per-batch CIDEr (ablation)'];

describe('chart legend', () => {
  it('wraps entries into rows that fit between the margins', () => {
    const { rows, items } = legendLayout(NAMES, 56, 544);
    expect(rows).toBeGreaterThan(1);
    for (let i = 0; i < items.length; i++) {
      const end = items[i]!.x + 14 + NAMES[i]!.length * 6.2;
      expect(end).toBeLessThanOrEqual(544);
      const next = items[i + 1];
      if (next && next.row === items[i]!.row) expect(next.x).toBeGreaterThan(end);
      if (next) expect(next.row === items[i]!.row || next.x === 56).toBe(true);
    }
  });

  it('puts the legend below the plot area and grows the chart to hold it', () => {
    const series = NAMES.map((name, i) => ({ name, points: [[0, i] as [number, number], [10, i + 1] as [number, number]] }));
    const svg = lineChart(series, { title: 't', xLabel: 'x', yLabel: 'y', height: 300 });
    const height = Number(/viewBox="0 0 \d+ (\d+)"/.exec(svg)![1]);
    expect(height).toBeGreaterThan(300);
    const swatchYs = [...svg.matchAll(/<rect x="[\d.]+" y="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(swatchYs.length).toBe(NAMES.length);
    // the plot's bottom axis is at 300 - 48 = 252; every swatch is below it
    for (const y of swatchYs) expect(y).toBeGreaterThan(252);
  });
});

describe('intervals and categories', () => {
  // 560 × 300: plot x from 56 to 544 (488 px), y from 32 to 252 (220 px)
  it('draws an error bar with caps at the interval\'s ends', () => {
    // categories a, b: x from −0.5 to 1.5, so x = 0 sits at 56 + 0.25 · 488 = 178; y from 0 to 1.5
    const svg = lineChart([{ name: 's', points: [[0, 1], [1, 1.2]], intervals: [[0.5, 1.5], undefined] }],
      { title: 't', xLabel: 'x', yLabel: 'y', categories: ['a', 'b'] });
    const bars = [...svg.matchAll(/<path class="interval"[^>]* d="([^"]+)"/g)].map((m) => m[1]);
    // y = 0.5 → 252 − 220 / 3 = 178.7; y = 1.5 → 32
    expect(bars).toEqual(['M178.0,178.7 V32.0 M174.0,178.7 H182.0 M174.0,32.0 H182.0']);
    const labels = [...svg.matchAll(/<text class="category" x="([\d.]+)"[^>]*>(.*?)<\/text>/g)].map((m) => [m[1], m[2]!.replace(/<[^>]+>/g, '')]);
    expect(labels).toEqual([['178', 'a'], ['422', 'b']]);
  });

  it('widens the y range to hold the intervals and draws the zero line for differences', () => {
    // y from −0.2 to 0.6, padded by 10 % of 0.8 (yFromZero false): −0.28 to 0.68,
    // so 0 sits at 252 − 220 · 0.28 / 0.96 = 187.8
    const svg = lineChart([{ name: 'gain', points: [[1, 0.4]], intervals: [[-0.2, 0.6]] }],
      { title: 't', xLabel: 'x', yLabel: 'y', categories: ['a', 'b'], yFromZero: false, zeroLine: true });
    expect(/<line class="zero"[^>]* y1="([\d.]+)"/.exec(svg)![1]).toBe('187.8');
    expect(lineChart([{ name: 'gain', points: [[1, 0.4]] }], { title: 't', xLabel: 'x', yLabel: 'y', zeroLine: true })).not.toContain('class="zero"');
  });

  it('draws markers without lines when asked', () => {
    const svg = lineChart([{ name: 's', points: [[0, 1], [1, 2]] }], { title: 't', xLabel: 'x', yLabel: 'y', categories: ['a', 'b'], lines: false });
    expect([svg.includes('<polyline'), svg.match(/<circle /g)?.length]).toEqual([false, 2]);
  });

  it('wraps long category names at spaces', () => {
    expect(wrapLabel('SCST, per-batch CIDEr (ablation)')).toEqual(['SCST, per-batch', 'CIDEr (ablation)']);
    expect(wrapLabel('LoRA + DA + SCST')).toEqual(['LoRA + DA + SCST']);
    expect(wrapLabel('a bb c', 4)).toEqual(['a bb', 'c']);
    expect(wrapLabel('averyveryverylongword x', 4)).toEqual(['averyveryverylongword', 'x']);
    expect(wrapLabel('zero-shot')).toEqual(['zero-shot']);
  });
});

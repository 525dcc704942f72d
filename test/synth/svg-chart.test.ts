// The report's charts: the legend is laid out below the plot, in rows, without entries overlapping each other
// or running past the right edge.
import { describe, expect, it } from 'vitest';
import { legendLayout, lineChart } from '../../lib/synth/svg-chart.js';

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

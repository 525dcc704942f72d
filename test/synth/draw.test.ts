// Rasteriser: shape areas against their closed forms, exactness of the flat-pixel shortcut against full
// 16-sample rendering, and colours.
import { describe, expect, it } from 'vitest';
import { sampleAssistiveView } from '../../lib/synth/degrade.js';
import { IDENTITY_VIEW, renderScene, renderSceneFull } from '../../lib/synth/draw.js';
import { SynthRandom } from '../../lib/synth/random.js';
import { sampleScene, type Scene, type Shape } from '../../lib/synth/scene.js';

const R = 20;

function shapeScene(shape: Shape): Scene {
  return {
    layout: 'single',
    background: { kind: 'plain', rgb: [0, 0, 0] },
    objects: [{ shape, colour: 'gray', size: 'large', x: 32, y: 32, radius: R, rgb: [255, 255, 255] }],
  };
}

/** Covered area in pixels: white coverage summed over the red channel. */
function area(scene: Scene, view = IDENTITY_VIEW): number {
  const image = renderScene(scene, view);
  let total = 0;
  for (let i = 0; i < 64 * 64; i++) total += image.data[i * 3]! / 255;
  return total;
}

const sin36 = Math.sin(Math.PI / 5);
const EXPECTED_AREA: Record<Shape, number> = {
  circle: Math.PI * R * R,
  square: (2 * 0.85 * R) ** 2,
  triangle: ((3 * Math.sqrt(3)) / 4) * R * R,
  // ten triangles (centre, tip, inner vertex), each ½·R·(0.45R)·sin 36°
  star: 5 * R * 0.45 * R * sin36,
  cross: 2 * (2 * 0.32 * R) * (2 * R) - (2 * 0.32 * R) ** 2,
  ring: Math.PI * R * R * (1 - 0.58 ** 2),
};

// Outline lengths: 4 samples per pixel side resolve an edge to within half a sample (1/8 px), so the area
// error is at most perimeter / 8.
const PERIMETER: Record<Shape, number> = {
  circle: 2 * Math.PI * R,
  square: 8 * 0.85 * R,
  triangle: 3 * Math.sqrt(3) * R,
  star: 10 * Math.hypot(R - 0.45 * R * Math.cos(Math.PI / 5), 0.45 * R * sin36),
  cross: 8 * (R - 0.32 * R) + 4 * 2 * 0.32 * R,
  ring: 2 * Math.PI * R * (1 + 0.58),
};

describe('renderScene', () => {
  it('covers each shape with its closed-form area (error at most perimeter / 8)', () => {
    for (const [shape, expected] of Object.entries(EXPECTED_AREA) as [Shape, number][]) {
      const got = area(shapeScene(shape));
      console.log(`${shape}: area ${got.toFixed(2)} px², closed form ${expected.toFixed(2)}, diff ${(got - expected).toFixed(2)}, bound ${(PERIMETER[shape] / 8).toFixed(2)}`);
      expect([shape, Math.abs(got - expected) <= PERIMETER[shape] / 8]).toEqual([shape, true]);
    }
    expect(area(shapeScene('square'))).toBe(1156); // edges 15..49 fall on pixel boundaries: exact
  });

  it('keeps areas under rotation and scales them by zoom²', () => {
    const view = { angle: (17 * Math.PI) / 180, centreX: 30, centreY: 33, zoom: 1.1 };
    for (const shape of ['square', 'star'] as const) {
      const got = area(shapeScene(shape), view);
      const expected = EXPECTED_AREA[shape] * 1.1 ** 2;
      expect([shape, Math.abs(got - expected) <= PERIMETER[shape] * 1.1 / 8]).toEqual([shape, true]);
    }
  });

  it('equals full 16-sample rendering in every pixel (the flat-pixel shortcut is exact)', () => {
    let maxDiff = 0;
    for (let i = 0; i < 120; i++) {
      const rng = new SynthRandom(1000 + i);
      const scene = sampleScene(rng);
      const view = i % 2 === 0 ? IDENTITY_VIEW : sampleAssistiveView(rng);
      const fast = renderScene(scene, view).data;
      const full = renderSceneFull(scene, view).data;
      for (let k = 0; k < fast.length; k++) maxDiff = Math.max(maxDiff, Math.abs(fast[k]! - full[k]!));
    }
    console.log(`renderScene vs renderSceneFull over 120 scenes: max |diff| ${maxDiff}`);
    expect(maxDiff).toBe(0);
  });

  it('paints object interiors in the object colour and the plain background elsewhere', () => {
    const scene = shapeScene('square');
    scene.background = { kind: 'plain', rgb: [10, 20, 30] };
    scene.objects[0]!.rgb = [200, 100, 50];
    const image = renderScene(scene);
    expect(Array.from(image.data.subarray((32 * 64 + 32) * 3, (32 * 64 + 32) * 3 + 3))).toEqual([200, 100, 50]);
    expect(Array.from(image.data.subarray(0, 3))).toEqual([10, 20, 30]);
  });
});

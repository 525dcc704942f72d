/**
 * Pure-TypeScript rasteriser for synthetic scenes. Each output pixel averages a 4×4 grid of point samples
 * (4× supersampling, i.e. drawing at 256×256 and downscaling by area averaging), so edges are
 * anti-aliased. A {@link View} maps output pixels to scene coordinates, which is how the assistive domain
 * rotates, shifts and zooms the camera without resampling a finished image.
 */
import { wordBitmap } from './font.js';
import type { Background, Rgb, Scene, SceneObject } from './scene.js';

/** Output side in pixels. */
export const IMAGE_SIZE = 64;
/** Samples per pixel side (4 → 16 samples per pixel). */
export const SUPERSAMPLE = 4;

/**
 * The camera: output pixel (u, v) shows scene point `centre + R(angle) · ((u, v) − 32) / zoom`.
 * The identity view (angle 0, centre (32, 32), zoom 1) shows the scene as laid out.
 */
export interface View {
  /** Rotation in radians (counter-clockwise in the image). */
  angle: number;
  centreX: number;
  centreY: number;
  /** > 1 magnifies (crops tighter), < 1 shows more of the surroundings. */
  zoom: number;
}

/** The identity view. */
export const IDENTITY_VIEW: View = { angle: 0, centreX: IMAGE_SIZE / 2, centreY: IMAGE_SIZE / 2, zoom: 1 };

/** An RGB float image, values in [0, 255], row-major, interleaved. */
export interface FloatImage {
  width: number;
  height: number;
  data: Float32Array;
}

/** Something drawn over the background: a bounding box in scene units, a point test and a colour. */
interface Layer {
  minX: number;
  maxX: number;
  minY: number;
  maxY: number;
  rgb: Rgb;
  inside: (x: number, y: number) => boolean;
  /** A lower bound of the distance from the point to the layer's outline (0 when unknown). */
  clearance: (x: number, y: number) => number;
}

const STAR_INNER = 0.45;
const STAR_TIP_ANGLE = (2 * Math.PI) / 5;
const CROSS_ARM = 0.32;
const RING_INNER = 0.58;
const SQUARE_HALF = 0.85;

/** The point test of a shape centred at the origin with half-extent r (y down, star and triangle point up). */
export function shapeTest(shape: SceneObject['shape'], r: number): (x: number, y: number) => boolean {
  switch (shape) {
    case 'circle':
      return (x, y) => x * x + y * y <= r * r;
    case 'ring': {
      const inner = RING_INNER * r;
      return (x, y) => {
        const d2 = x * x + y * y;
        return d2 <= r * r && d2 >= inner * inner;
      };
    }
    case 'square': {
      const h = SQUARE_HALF * r;
      return (x, y) => Math.abs(x) <= h && Math.abs(y) <= h;
    }
    case 'triangle':
      // equilateral, circumradius r, centroid at the origin: vertices (0, −r), (±r·√3/2, r/2)
      return (x, y) => y <= r / 2 && Math.abs(x) * Math.sqrt(3) <= y + r;
    case 'cross': {
      const w = CROSS_ARM * r;
      return (x, y) => {
        const ax = Math.abs(x);
        const ay = Math.abs(y);
        return (ax <= w && ay <= r) || (ay <= w && ax <= r);
      };
    }
    case 'star': {
      // fold the angle into one half-sector [0, 36°] from a tip, then test against the tip→inner-vertex edge
      const inner = STAR_INNER * r;
      const ex = inner * Math.cos(STAR_TIP_ANGLE / 2) - r;
      const ey = inner * Math.sin(STAR_TIP_ANGLE / 2);
      return (x, y) => {
        const d = Math.hypot(x, y);
        if (d > r) return false;
        if (d <= inner) return true;
        // angle from straight up in [0, 2π); tips at multiples of 72°, so tips sit at 36° within a shifted sector
        const theta = Math.atan2(x, -y) + 2 * Math.PI + STAR_TIP_ANGLE / 2;
        const phi = Math.abs((theta % STAR_TIP_ANGLE) - STAR_TIP_ANGLE / 2);
        const px = d * Math.cos(phi);
        const py = d * Math.sin(phi);
        return ex * py - ey * (px - r) >= 0;
      };
    }
  }
}

/** Signed distance to an axis-aligned box of half-sides (hx, hy) centred at the origin (negative inside). */
function boxDistance(x: number, y: number, hx: number, hy: number): number {
  const qx = Math.abs(x) - hx;
  const qy = Math.abs(y) - hy;
  return qx > 0 || qy > 0 ? Math.hypot(Math.max(qx, 0), Math.max(qy, 0)) : Math.max(qx, qy);
}

/** Distance from (px, py) to the segment (ax, ay)–(bx, by). */
function segmentDistance(px: number, py: number, ax: number, ay: number, bx: number, by: number): number {
  const ex = bx - ax;
  const ey = by - ay;
  const t = Math.min(1, Math.max(0, ((px - ax) * ex + (py - ay) * ey) / (ex * ex + ey * ey)));
  return Math.hypot(px - ax - t * ex, py - ay - t * ey);
}

/**
 * A lower bound of the distance from a point to the outline of a shape centred at the origin (the
 * shape of {@link shapeTest}). Unions use the minimum and intersections the maximum of signed distances,
 * both of which never overestimate.
 */
export function shapeClearance(shape: SceneObject['shape'], r: number): (x: number, y: number) => number {
  switch (shape) {
    case 'circle':
      return (x, y) => Math.abs(Math.hypot(x, y) - r);
    case 'ring':
      return (x, y) => {
        const d = Math.hypot(x, y);
        return Math.abs(Math.max(d - r, RING_INNER * r - d));
      };
    case 'square':
      return (x, y) => Math.abs(boxDistance(x, y, SQUARE_HALF * r, SQUARE_HALF * r));
    case 'triangle':
      return (x, y) => {
        const s3 = Math.sqrt(3);
        return Math.abs(Math.max(y - r / 2, (s3 * x - y - r) / 2, (-s3 * x - y - r) / 2));
      };
    case 'cross': {
      const w = CROSS_ARM * r;
      return (x, y) => Math.abs(Math.min(boxDistance(x, y, w, r), boxDistance(x, y, r, w)));
    }
    case 'star': {
      const vertices: number[] = [];
      for (let k = 0; k < 10; k++) {
        const radius = k % 2 === 0 ? r : STAR_INNER * r;
        const angle = (k * STAR_TIP_ANGLE) / 2;
        vertices.push(radius * Math.sin(angle), -radius * Math.cos(angle));
      }
      return (x, y) => {
        let best = Infinity;
        for (let k = 0; k < 10; k++) {
          const j = (k + 1) % 10;
          best = Math.min(best, segmentDistance(x, y, vertices[2 * k]!, vertices[2 * k + 1]!, vertices[2 * j]!, vertices[2 * j + 1]!));
        }
        return best;
      };
    }
  }
}

function objectLayer(o: SceneObject): Layer {
  const test = shapeTest(o.shape, o.radius);
  const clearance = shapeClearance(o.shape, o.radius);
  return {
    minX: o.x - o.radius, maxX: o.x + o.radius, minY: o.y - o.radius, maxY: o.y + o.radius, rgb: o.rgb,
    inside: (x, y) => test(x - o.x, y - o.y),
    clearance: (x, y) => clearance(x - o.x, y - o.y),
  };
}

function rectLayer(cx: number, cy: number, halfW: number, halfH: number, rgb: Rgb): Layer {
  return {
    minX: cx - halfW, maxX: cx + halfW, minY: cy - halfH, maxY: cy + halfH, rgb,
    inside: (x, y) => Math.abs(x - cx) <= halfW && Math.abs(y - cy) <= halfH,
    clearance: (x, y) => Math.abs(boxDistance(x - cx, y - cy, halfW, halfH)),
  };
}

/** The layers of a scene in painting order: objects, label border and card, printed word. */
function sceneLayers(scene: Scene): Layer[] {
  const layers = scene.objects.map(objectLayer);
  if (scene.label !== undefined) {
    const l = scene.label;
    layers.push(rectLayer(l.x, l.y, l.width / 2, l.height / 2, l.border));
    layers.push(rectLayer(l.x, l.y, l.width / 2 - 0.9, l.height / 2 - 0.9, l.rgb));
  }
  if (scene.text !== undefined) {
    const t = scene.text;
    const bitmap = wordBitmap(t.word);
    layers.push({
      minX: t.x, maxX: t.x + bitmap.width * t.cell, minY: t.y, maxY: t.y + bitmap.height * t.cell, rgb: t.ink,
      inside: (x, y) => {
        const cx = Math.floor((x - t.x) / t.cell);
        const cy = Math.floor((y - t.y) / t.cell);
        return cx >= 0 && cy >= 0 && cx < bitmap.width && cy < bitmap.height && bitmap.cells[cy * bitmap.width + cx] === 1;
      },
      // glyph cells are as small as a pixel: always supersample where the word is
      clearance: () => 0,
    });
  }
  return layers;
}

/** A function writing the background colour at a scene point into `out`. */
function backgroundSampler(bg: Background): (x: number, y: number, out: Float64Array) => void {
  switch (bg.kind) {
    case 'plain':
      return (_x, _y, out) => {
        out[0] = bg.rgb[0];
        out[1] = bg.rgb[1];
        out[2] = bg.rgb[2];
      };
    case 'gradient': {
      // t runs from 0 to 1 across the 64-unit frame along the gradient direction, clamped outside it
      const c = Math.cos(bg.angle) / IMAGE_SIZE;
      const s = Math.sin(bg.angle) / IMAGE_SIZE;
      return (x, y, out) => {
        const t = Math.min(1, Math.max(0, 0.5 + (x - 32) * c + (y - 32) * s));
        for (let k = 0; k < 3; k++) out[k] = bg.from[k]! + (bg.to[k]! - bg.from[k]!) * t;
      };
    }
    case 'stripes': {
      const c = Math.cos(bg.angle) / bg.period;
      const s = Math.sin(bg.angle) / bg.period;
      return (x, y, out) => {
        const delta = (Math.floor(x * c + y * s) & 1) === 0 ? bg.contrast : -bg.contrast;
        for (let k = 0; k < 3; k++) out[k] = bg.rgb[k]! + delta;
      };
    }
    case 'checker':
      return (x, y, out) => {
        const delta = ((Math.floor(x / bg.period) + Math.floor(y / bg.period)) & 1) === 0 ? bg.contrast : -bg.contrast;
        for (let k = 0; k < 3; k++) out[k] = bg.rgb[k]! + delta;
      };
  }
}

/** Index of the topmost layer containing the point, or −1 for the background. */
function layerAt(layers: readonly Layer[], x: number, y: number): number {
  for (let k = layers.length - 1; k >= 0; k--) {
    const l = layers[k]!;
    if (x >= l.minX && x <= l.maxX && y >= l.minY && y <= l.maxY && l.inside(x, y)) return k;
  }
  return -1;
}

/** A lower bound of the distance to the nearest line where the background stops being one affine function. */
function backgroundClearanceOf(bg: Background): (x: number, y: number) => number {
  const toEdge = (t: number) => Math.min(t - Math.floor(t), Math.ceil(t) - t);
  switch (bg.kind) {
    case 'stripes': {
      const c = Math.cos(bg.angle);
      const s = Math.sin(bg.angle);
      return (x, y) => toEdge((x * c + y * s) / bg.period) * bg.period;
    }
    case 'checker':
      return (x, y) => Math.min(toEdge(x / bg.period), toEdge(y / bg.period)) * bg.period;
    case 'gradient': {
      // affine except where it is clamped, beyond the lines t = 0 and t = 1 (see backgroundSampler)
      const c = Math.cos(bg.angle);
      const s = Math.sin(bg.angle);
      return (x, y) => {
        const t = 0.5 + ((x - 32) * c + (y - 32) * s) / IMAGE_SIZE;
        return Math.min(Math.abs(t), Math.abs(1 - t)) * IMAGE_SIZE;
      };
    }
    case 'plain':
      return () => Infinity;
  }
}

/**
 * Renders a scene through a view into a 64×64 float RGB image (values in [0, 255]) with 4×4
 * supersampling: every pixel is the mean of 16 point samples (drawing at 256×256 and averaging areas).
 * Pixels that no outline crosses — every layer's distance bound and the background's exceed the
 * pixel's half-diagonal — hold one flat colour, or an affine background, whose 16-sample mean equals
 * the value at the centre; they are computed once. Pixels on edges are sampled 16 times.
 */
export function renderScene(scene: Scene, view: View = IDENTITY_VIEW, size = IMAGE_SIZE): FloatImage {
  const layers = sceneLayers(scene);
  const background = backgroundSampler(scene.background);
  const backgroundClearance = backgroundClearanceOf(scene.background);
  const data = new Float32Array(size * size * 3);
  const a = Math.cos(view.angle) / view.zoom;
  const b = Math.sin(view.angle) / view.zoom;
  const half = size / 2;
  // every sample of a pixel lies within this distance (scene units) of its centre
  const reach = Math.SQRT1_2 / view.zoom + 1e-9;
  const sample = new Float64Array(3);
  const weight = 1 / (SUPERSAMPLE * SUPERSAMPLE);
  for (let v = 0; v < size; v++) {
    for (let u = 0; u < size; u++) {
      const o = (v * size + u) * 3;
      const du = u + 0.5 - half;
      const dv = v + 0.5 - half;
      const cx = view.centreX + a * du - b * dv;
      const cy = view.centreY + b * du + a * dv;
      let flat = backgroundClearance(cx, cy) > reach;
      for (let k = 0; flat && k < layers.length; k++) {
        const l = layers[k]!;
        const near = cx + reach >= l.minX && cx - reach <= l.maxX && cy + reach >= l.minY && cy - reach <= l.maxY;
        if (near && l.clearance(cx, cy) <= reach) flat = false;
      }
      if (flat) {
        const id = layerAt(layers, cx, cy);
        if (id >= 0) {
          const rgb = layers[id]!.rgb;
          data[o] = rgb[0];
          data[o + 1] = rgb[1];
          data[o + 2] = rgb[2];
        } else {
          background(cx, cy, sample);
          data[o] = sample[0]!;
          data[o + 1] = sample[1]!;
          data[o + 2] = sample[2]!;
        }
        continue;
      }
      let r = 0;
      let g = 0;
      let bl = 0;
      for (let j = 0; j < SUPERSAMPLE; j++) {
        const sv = v + (j + 0.5) / SUPERSAMPLE - half;
        for (let i = 0; i < SUPERSAMPLE; i++) {
          const su = u + (i + 0.5) / SUPERSAMPLE - half;
          const x = view.centreX + a * su - b * sv;
          const y = view.centreY + b * su + a * sv;
          const k = layerAt(layers, x, y);
          if (k >= 0) {
            const rgb = layers[k]!.rgb;
            r += rgb[0];
            g += rgb[1];
            bl += rgb[2];
          } else {
            background(x, y, sample);
            r += sample[0]!;
            g += sample[1]!;
            bl += sample[2]!;
          }
        }
      }
      data[o] = r * weight;
      data[o + 1] = g * weight;
      data[o + 2] = bl * weight;
    }
  }
  return { width: size, height: size, data };
}

/** Renders with all 16 samples in every pixel (the reference {@link renderScene} must match). */
export function renderSceneFull(scene: Scene, view: View = IDENTITY_VIEW, size = IMAGE_SIZE): FloatImage {
  const layers = sceneLayers(scene);
  const background = backgroundSampler(scene.background);
  const data = new Float32Array(size * size * 3);
  const a = Math.cos(view.angle) / view.zoom;
  const b = Math.sin(view.angle) / view.zoom;
  const half = size / 2;
  const sample = new Float64Array(3);
  for (let v = 0; v < size; v++) {
    for (let u = 0; u < size; u++) {
      const acc = [0, 0, 0];
      for (let j = 0; j < SUPERSAMPLE; j++) {
        for (let i = 0; i < SUPERSAMPLE; i++) {
          const su = u + (i + 0.5) / SUPERSAMPLE - half;
          const sv = v + (j + 0.5) / SUPERSAMPLE - half;
          const x = view.centreX + a * su - b * sv;
          const y = view.centreY + b * su + a * sv;
          const k = layerAt(layers, x, y);
          const rgb: ArrayLike<number> = k >= 0 ? layers[k]!.rgb : (background(x, y, sample), sample);
          for (let c = 0; c < 3; c++) acc[c]! += rgb[c]!;
        }
      }
      for (let c = 0; c < 3; c++) data[(v * size + u) * 3 + c] = acc[c]! / (SUPERSAMPLE * SUPERSAMPLE);
    }
  }
  return { width: size, height: size, data };
}

/** Rounds and clamps a float image to 8-bit RGB. */
export function toBytes(image: FloatImage): Uint8Array {
  const out = new Uint8Array(image.data.length);
  for (let i = 0; i < out.length; i++) {
    const v = Math.round(image.data[i]!);
    out[i] = v < 0 ? 0 : v > 255 ? 255 : v;
  }
  return out;
}

/**
 * The global batch of the distributed gradient test: 4 rows of the tiny fixture model's inputs with label rows of
 * different lengths, split across ranks as contiguous row ranges. Each rank's cross-entropy is the mean over its
 * own label tokens, so it is scaled by its token share for the summed gradient to equal the global batch's.
 */
const PROMPT = [18, 31, 7, 1];
const LABELS = [[3, 164, 46, 17, 4, 76, 1], [24, 148, 8, 1], [3, 17, 1], [76, 4, 46, 164, 1]];
const IGNORE = -100;

function rows(from: number, to: number) {
  const labels = LABELS.slice(from, to);
  const width = Math.max(...labels.map((l) => l.length));
  const size = 32;
  const pixels = new Float32Array((to - from) * 3 * size * size);
  for (let i = 0; i < pixels.length; i++) pixels[i] = Math.sin((i + from * 3 * size * size) * 0.01);
  return {
    pixelValues: { data: pixels, shape: [to - from, 3, size, size] },
    inputIds: labels.map(() => PROMPT),
    labels: labels.map((l) => [...l, ...Array<number>(width - l.length).fill(IGNORE)]),
  };
}

export function gradsBatch(rank: number, worldSize: number) {
  const per = LABELS.length / worldSize;
  const [from, to] = [rank * per, (rank + 1) * per];
  const globalTokens = LABELS.reduce((s, l) => s + l.length, 0);
  return { inputs: rows(from, to), tokens: LABELS.slice(from, to).reduce((s, l) => s + l.length, 0), globalTokens };
}

export function fullBatch() {
  return rows(0, LABELS.length);
}

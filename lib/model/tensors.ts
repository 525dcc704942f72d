/** Conversions between plain JS arrays and the flat typed tensors the addon takes. */
import { invalidParameterError } from '../is.js';
import type { NativeTensor } from '../native.js';

/** A rectangular integer matrix (rows of equal length) as a flat Int32Array tensor. */
export function intMatrix(name: string, rows: readonly (readonly number[])[]): NativeTensor<Int32Array> {
  if (!Array.isArray(rows) || rows.length === 0) throw invalidParameterError(name, 'non-empty array of integer arrays', rows);
  const width = Array.isArray(rows[0]) ? rows[0].length : -1;
  const data = new Int32Array(rows.length * Math.max(width, 0));
  rows.forEach((row, i) => {
    if (!Array.isArray(row) || row.length !== width) {
      throw invalidParameterError(`${name}[${i}]`, `array of ${width} integers (rows must have equal length)`, row);
    }
    row.forEach((v, j) => {
      if (!Number.isInteger(v) || v < -2147483648 || v > 2147483647) throw invalidParameterError(`${name}[${i}][${j}]`, 'integer', v);
      data[i * width + j] = v;
    });
  });
  return { data, shape: [rows.length, width] };
}

/** Splits a flat row-major array of shape [rows, cols] into number rows. */
export function toRows(data: ArrayLike<number | bigint>, shape: readonly number[]): number[][] {
  const [rows, cols] = [shape[0] ?? 0, shape[1] ?? 0];
  const out: number[][] = [];
  for (let i = 0; i < rows; i++) {
    const row: number[] = new Array(cols);
    for (let j = 0; j < cols; j++) row[j] = Number(data[i * cols + j]);
    out.push(row);
  }
  return out;
}

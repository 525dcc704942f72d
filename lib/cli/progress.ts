/**
 * A tiny progress bar for long CLI runs: `caption [########------------] 24/60 3.1 img/s ETA 12s`.
 * On a TTY it redraws one line with `\r`; elsewhere (when asked for) it writes one line per update.
 */

/** Where the bar is drawn (process.stderr in the CLI). */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** Formats seconds as `42s`, `3m05s` or `1h02m`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export class ProgressBar {
  private readonly started: number;
  private lastLength = 0;
  private lastDecile = -1;

  /**
   * @param stream where to draw
   * @param total the number of items
   * @param label text before the bar
   * @param unit the item name in the rate (`img/s`)
   * @param now clock in milliseconds (tests pass a fake one)
   */
  constructor(
    private readonly stream: ProgressStream,
    readonly total: number,
    readonly label: string,
    readonly unit = 'it',
    private readonly now: () => number = () => performance.now(),
  ) {
    this.started = now();
  }

  /** The line for `done` items (without `\r` or newline). */
  render(done: number): string {
    const elapsed = (this.now() - this.started) / 1000;
    const rate = elapsed > 0 ? done / elapsed : 0;
    const eta = rate > 0 ? (this.total - done) / rate : Infinity;
    const width = 20;
    const filled = this.total > 0 ? Math.round((done / this.total) * width) : width;
    const bar = `${'#'.repeat(filled)}${'-'.repeat(width - filled)}`;
    const tail = done >= this.total ? `in ${formatDuration(elapsed)}` : `ETA ${formatDuration(eta)}`;
    return `${this.label} [${bar}] ${done}/${this.total} ${rate.toFixed(1)} ${this.unit}/s ${tail}`;
  }

  /** Draws the bar for `done` items. */
  update(done: number): void {
    const line = this.render(done);
    if (this.stream.isTTY) {
      this.stream.write(`\r${line}${' '.repeat(Math.max(0, this.lastLength - line.length))}`);
      this.lastLength = line.length;
      if (done >= this.total) this.stream.write('\n');
    } else {
      // not a terminal: one line per tenth of the work, and at the end
      const decile = this.total > 0 ? Math.floor((done / this.total) * 10) : 10;
      if (decile === this.lastDecile && done < this.total) return;
      this.lastDecile = decile;
      this.stream.write(`${line}\n`);
    }
  }
}

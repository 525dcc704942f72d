/**
 * A tiny progress bar for long CLI runs: `caption [########------------] 24/60 3.1 img/s ETA 12s`.
 * On a TTY it redraws one line with `\r`; elsewhere it writes a plain line now and then (the first update, every
 * `every` items, the last).
 */

/** Where the bar is drawn (process.stderr in the CLI). */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** Options of {@link ProgressBar} beyond the positional ones. */
export interface ProgressBarOptions {
  /**
   * Items already done when the bar starts (a resumed stage starts at its checkpoint's step). The rate counts only
   * what was done since, so a resumed bar does not report the earlier work as done in no time. Default 0.
   */
  start?: number;
  /**
   * Off a terminal: a line every this many items (and at the first and the last update). Default: a tenth of the total.
   */
  every?: number;
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
  private readonly start: number;
  private readonly every: number;
  /** Characters of the line drawn on the terminal now (0: nothing drawn, or cleared). */
  private drawn = 0;
  private last: { done: number; info: string } | undefined;
  private printed: number | undefined;

  /**
   * @param stream where to draw
   * @param total the number of items
   * @param label text before the bar
   * @param unit the item name in the rate (`img/s`)
   * @param now clock in milliseconds (tests pass a fake one)
   * @param options the starting count and the plain-line interval
   */
  constructor(
    private readonly stream: ProgressStream,
    readonly total: number,
    readonly label: string,
    readonly unit = 'it',
    private readonly now: () => number = () => performance.now(),
    options: ProgressBarOptions = {},
  ) {
    this.started = now();
    this.start = options.start ?? 0;
    this.every = Math.max(1, options.every ?? Math.ceil(total / 10));
  }

  /** Whether the bar has drawn its last update (`done >= total`). */
  get finished(): boolean {
    return this.last !== undefined && this.last.done >= this.total;
  }

  /** The line for `done` items (without `\r` or newline), followed by `info` (e.g. `loss 2.1042`) when given. */
  render(done: number, info = ''): string {
    const elapsed = (this.now() - this.started) / 1000;
    const rate = elapsed > 0 ? Math.max(0, done - this.start) / elapsed : 0;
    const eta = rate > 0 ? (this.total - done) / rate : Infinity;
    const width = 20;
    const filled = this.total > 0 ? Math.round((Math.min(done, this.total) / this.total) * width) : width;
    const bar = `${'#'.repeat(filled)}${'-'.repeat(width - filled)}`;
    const tail = done >= this.total ? `in ${formatDuration(elapsed)}` : `ETA ${formatDuration(eta)}`;
    return `${this.label} [${bar}] ${done}/${this.total} ${rate.toFixed(1)} ${this.unit}/s ${tail}${info ? ` ${info}` : ''}`;
  }

  /** Draws the bar for `done` items, with `info` after it. */
  update(done: number, info = ''): void {
    this.last = { done, info };
    if (this.stream.isTTY) {
      this.draw();
      return;
    }
    const due = this.printed === undefined || done >= this.total || Math.floor(done / this.every) > Math.floor(this.printed / this.every);
    if (!due) return;
    this.printed = done;
    this.stream.write(`${this.render(done, info)}\n`);
  }

  /**
   * Removes the bar's line from the terminal, so that other output does not run into it; {@link redraw} puts it back.
   * Nothing to do off a terminal, or once the bar has finished (its last line stays).
   */
  clear(): void {
    if (!this.stream.isTTY || this.drawn === 0) return;
    this.stream.write(`\r${' '.repeat(this.drawn)}\r`);
    this.drawn = 0;
  }

  /** Draws the last update again after a {@link clear}. */
  redraw(): void {
    if (this.stream.isTTY && this.last && !this.finished && this.drawn === 0) this.draw();
  }

  /** Ends the bar's line where it stands (a stage stopped early): later output starts on a line of its own. */
  end(): void {
    if (!this.stream.isTTY || this.drawn === 0) return;
    this.stream.write('\n');
    this.drawn = 0;
  }

  private draw(): void {
    const { done, info } = this.last!;
    const line = this.render(done, info);
    this.stream.write(`\r${line}${' '.repeat(Math.max(0, this.drawn - line.length))}`);
    this.drawn = line.length;
    if (done >= this.total) {
      this.stream.write('\n');
      this.drawn = 0;
    }
  }
}

/**
 * Library code never prints: anything worth saying goes through a Logger that the caller
 * controls. The default is silent; the CLI passes one that writes to stderr.
 */
export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
}

/** A logger that discards everything (the library default). */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
};

/** A logger that writes `info` and `warn` (and `debug` when verbose) to a stream, stderr by default. */
export function streamLogger(stream: NodeJS.WritableStream = process.stderr, verbose = false): Logger {
  return {
    debug(message) {
      if (verbose) stream.write(`${message}\n`);
    },
    info(message) {
      stream.write(`${message}\n`);
    },
    warn(message) {
      stream.write(`warning: ${message}\n`);
    },
  };
}

/**
 * `blip2-progressive doctor`: what this installation runs on (see {@link runtimeInfo}), as a readable list or
 * JSON. Fails (exit 1) when the native addon cannot be loaded, after printing why and the fix.
 */
import type { Command } from 'commander';
import { runtimeInfo, SPEED_CPU_FLAGS, type RuntimeInfo } from '../runtime-info.js';

/** The report as aligned `name  value` lines. */
export function formatRuntimeInfo(info: RuntimeInfo): string {
  const rows: [string, string][] = [
    ['package', `blip2-progressive ${info.package.version} (${info.package.root})`],
    ['node', `${info.node.version}, Node-API ${info.node.napi}, ${info.node.platform}`],
    ['addon', info.addon.file ? `${info.addon.file} (${info.addon.kind === 'prebuilt' ? 'prebuilt' : 'built from source'})` : 'none for this platform'],
  ];
  if (info.addon.builtAgainst) rows.push(['built against', info.addon.builtAgainst.runtime]);
  rows.push(['addon loads', info.addon.loaded ? 'yes' : `no: ${info.addon.error}`]);
  if (info.libtorch) {
    rows.push(['libtorch', `${info.libtorch.version}${info.libtorch.library ? ` (${info.libtorch.library})` : ''}`]);
    rows.push(['threads', `${info.libtorch.intraOpThreads} intra-op (OMP_NUM_THREADS=${process.env.OMP_NUM_THREADS ?? 'unset'}, ` +
      `OMP_WAIT_POLICY=${process.env.OMP_WAIT_POLICY ?? 'unset'})`]);
    rows.push(['blas', info.blas?.library ?? 'none found in the process (libtorch falls back to its own kernels)']);
    rows.push(['parallel', info.libtorch.parallelInfo.split('\n').map((l) => l.trim()).filter((l) => /OpenMP|MKL|threads/i.test(l)).join('; ')]);
  }
  const flags = SPEED_CPU_FLAGS.map((f) => `${f} ${info.cpu.flags[f] ? 'yes' : 'no'}`).join(', ');
  rows.push(['cpu', `${info.cpu.model}, ${info.cpu.cores} cores`], ['cpu features', flags]);
  rows.push(['cuda', info.addon.loaded ? (info.cuda.available ? `yes, ${info.cuda.devices} device(s)` : 'no') : 'unknown (addon not loaded)']);
  rows.push(['hub cache', info.paths.hubCache], ['home', info.paths.home]);
  rows.push(['default model', info.paths.defaultModel ?? 'none yet (run: npx blip2-progressive bench)']);
  const width = Math.max(...rows.map(([name]) => name.length));
  return rows.map(([name, value]) => `${name.padEnd(width)}  ${value}`).join('\n');
}

/** Adds the `doctor` command to the program. */
export function register(program: Command, stdout: NodeJS.WritableStream = process.stdout): void {
  program
    .command('doctor')
    .description('show the native addon, libtorch, BLAS, threads, CPU features, CUDA and cache locations')
    .option('--json', 'print the report as one JSON object')
    .addHelpText('after', `
Examples:
  $ blip2-progressive doctor          # does the addon load, which BLAS, how many threads, where is the default model
  $ blip2-progressive doctor --json   # the same as JSON (runtimeInfo() in the API)`)
    .action(async (flags: { json?: boolean }) => {
      const info = await runtimeInfo();
      stdout.write(flags.json ? `${JSON.stringify(info, null, 2)}\n` : `${formatRuntimeInfo(info)}\n`);
      if (!info.addon.loaded) throw new Error('the native addon cannot be loaded (see "addon loads" above for why and the fix)');
    });
}

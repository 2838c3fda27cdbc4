/**
 * Which of the parent's Node flags a worker inherits. Loader flags are dropped, so a worker loads
 * only what its tasks need (under tsx the parent has `--require …/preflight.cjs --import
 * …/loader.mjs`, which would cost every worker a TypeScript compiler); inspector flags are
 * dropped, so workers do not all try to bind the parent's debug port; eval flags are dropped, so
 * a child of `node -e …` runs the worker entry, not the parent's script again.
 */

/** Dropped with their value (the next argument unless written `--flag=value`). */
const WITH_VALUE = new Set(['--import', '--require', '-r', '--loader', '--experimental-loader', '--inspect-port', '--debug-port', '--inspect-publish-uid', '--eval', '-e', '--print', '-p', '-pe']);
/** Dropped alone: their value, if any, is always written `--flag=value`. */
const ALONE = new Set(['--inspect', '--inspect-brk', '--inspect-wait']);

/**
 * `argv` without loader flags (`--import`, `--require`/`-r`, `--loader`, `--experimental-loader`),
 * inspector flags (`--inspect*`, `--debug-port`) and eval flags (`-e`, `-p`), each with its value.
 * Everything else (`--max-old-space-size`, `--conditions`, `--no-warnings`, …) is kept, in order.
 */
export function inheritableExecArgv(argv: readonly string[] = process.execArgv): string[] {
  const kept: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    // Node reads `--inspect_port` as `--inspect-port`.
    const name = (eq === -1 ? arg : arg.slice(0, eq)).replace(/(?<=^--.*)_/g, '-');
    if (WITH_VALUE.has(name)) {
      if (eq === -1) i++;
      continue;
    }
    if (ALONE.has(name)) continue;
    kept.push(arg);
  }
  return kept;
}

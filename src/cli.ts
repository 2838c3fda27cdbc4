#!/usr/bin/env node
/**
 * The `rxjs-pools` command (see `rxjs-pools --help`). From source: `npx tsx src/cli.ts map …`;
 * built: `dist/cli.js`, the package's `bin`.
 */
import { main } from './cli/main.ts';

process.exitCode = await main(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  stderrIsTTY: process.stderr.isTTY === true,
  cwd: process.cwd(),
});

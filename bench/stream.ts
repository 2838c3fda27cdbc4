/**
 * `pool.stream` on a 10,000,000-value generator: values/s and peak RSS on both sides, against
 * same-run baselines. Runs on its own:
 *
 *   npx tsx bench/stream.ts                      10M values, 3 rounds, source under tsx
 *   npx tsx bench/stream.ts --built              the same from dist/ under plain node (npm run build first)
 *   options: --values N  --rounds R  --only threads,processes:4096  --json FILE
 *            (`system:B` runs a pool system with `buffersize: B` instead of the default)
 *
 * Each measurement is one system in a fresh child process (bench/stream-child.mjs), so each peak
 * RSS is its own; rounds run every system once, in an order rotated by the round, and every ratio
 * is taken within a round before the median is taken. The consumer counts and sums the values (the
 * sum is checked) and samples the main process's RSS every 65,536 values (flat memory: its peak
 * after the first tenth of the values stays near its level then); the generator samples its
 * worker's heap as often; a child process's own peak RSS is its VmHWM. Threads share the main
 * process's RSS, so for them the worker side is the worker's heap.
 *
 * Systems: plain-sync (`for … of` over a local generator: the floor of any iteration),
 * plain-async (`for await` over a local async generator: what a stream costs without a pool),
 * raw-flood and raw-credit (a hand-written worker_threads stream, batches of 512 values, without
 * flow control or with 1,024 credits granted back by halves: the message rate of the transport),
 * threads / threads-async / processes (`for await … of pool.stream(numbers, [n])` at the defaults,
 * a sync or async generator, on a ThreadPool / ProcessPool of one worker), and threads-flatMap
 * (`from([n]).pipe(flatMapOnPool(pool, numbers))`).
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';

const argv = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const i = argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return undefined;
  const a = argv[i]!;
  return a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[i + 1];
};
const built = argv.includes('--built');
const values = Number(option('values') ?? 10_000_000);
const rounds = Number(option('rounds') ?? 3);
const SYSTEMS = ['plain-sync', 'plain-async', 'raw-flood', 'raw-credit', 'threads', 'threads-async', 'processes', 'threads-flatMap'];
const systems = option('only')?.split(',') ?? SYSTEMS;
const BASELINE = 'plain-async';

interface Sample {
  system: string;
  values: number;
  ms: number;
  rate: number;
  mainRss0: number;
  mainRssPeak: number;
  mainRssAtTenth: number;
  mainPeakAfterTenth: number;
  mainHwm: number;
  worker?: { peakHeap: number; vmHWM?: number; vmRSS?: number };
}

const child = fileURLToPath(new URL('./stream-child.mjs', import.meta.url));
const env: NodeJS.ProcessEnv = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS; // ~40 ms per process start here, for every system alike
delete env.NODE_OPTIONS;

function measure(system: string): Sample {
  const args = [...(built ? [] : ['--import', 'tsx']), child, system, String(values), built ? 'built' : 'src'];
  const run = spawnSync(process.execPath, args, { encoding: 'utf8', env, timeout: 600_000 });
  if (run.status !== 0) throw new Error(`${system} failed (${run.status ?? run.signal}): ${run.stderr.trim().split('\n').slice(-3).join(' / ')}`);
  return JSON.parse(run.stdout.trim().split('\n').at(-1)!) as Sample;
}

const samples = new Map<string, Sample[]>(systems.map((s) => [s, []]));
const ratios = new Map<string, number[]>(systems.map((s) => [s, []]));
for (let round = 0; round < rounds; round++) {
  const order = systems.map((_, i) => systems[(i + round) % systems.length]!);
  const rates = new Map<string, number>();
  for (const system of order) {
    const sample = measure(system);
    samples.get(system)!.push(sample);
    rates.set(system, sample.rate);
    process.stderr.write(`round ${round + 1}/${rounds} ${system}: ${(sample.rate / 1e6).toFixed(2)}M values/s\n`);
  }
  const base = rates.get(BASELINE);
  if (base) for (const [system, rate] of rates) ratios.get(system)!.push(rate / base);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const span = (xs: number[], f: (x: number) => string) => `${f(median(xs))} (${f(Math.min(...xs))}–${f(Math.max(...xs))})`;
const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
const load = (await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' ');

const lines = [
  `pool.stream, ${values.toLocaleString('en')} values, ${rounds} round(s), ${built ? 'built JS under node' : 'source under tsx'}; ${cpus().length} cores, Node ${process.version}, load ${load}`,
  '',
  `| system | values/s, median (min–max) | ÷ ${BASELINE} (same round) | main RSS peak, MiB (growth over the start; over the RSS at 10 % of the values) | worker peak: heap MiB / RSS (VmHWM) MiB |`,
  '| --- | ---: | ---: | ---: | ---: |',
];
for (const system of systems) {
  const s = samples.get(system)!;
  const rate = span(s.map((x) => x.rate), (x) => `${(x / 1e6).toFixed(2)}M`);
  const ratio = ratios.get(system)!.length ? span(ratios.get(system)!, (x) => `${x.toFixed(2)}×`) : '—';
  const main =
    `${mb(median(s.map((x) => x.mainRssPeak)))} (+${mb(median(s.map((x) => x.mainRssPeak - x.mainRss0)))}; ` +
    `+${mb(median(s.map((x) => x.mainPeakAfterTenth - x.mainRssAtTenth)))})`;
  const w = s[0]!.worker;
  const worker = w ? `${mb(median(s.map((x) => x.worker!.peakHeap)))} / ${w.vmHWM !== undefined ? mb(median(s.map((x) => x.worker!.vmHWM!))) : 'in main'}` : '—';
  lines.push(`| ${system} | ${rate} | ${ratio} | ${main} | ${worker} |`);
}
console.log(lines.join('\n'));
const json = option('json');
if (json) writeFileSync(json, JSON.stringify({ values, rounds, built, load, samples: Object.fromEntries(samples) }, null, 2));

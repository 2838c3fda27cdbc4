/**
 * `npm run marbles`: renders every marbles/*.marble to the .svg beside it, with swirly (the RxJS
 * docs' renderer), offline. The picture comes from the scenario's virtual run, so it shows what
 * the operator really did:
 *
 *   source          the source marble
 *   fn(1), fn(2)…   one line per batch, from the frame it got a worker to the frame it settled:
 *                   its results (`#` where an item failed), or ✕ where it was cancelled
 *   onDrop          the values a drop policy dropped, when it dropped them
 *   ┌mapOnPool…┐    the operator and its options
 *   output          what the operator emitted
 *
 * Usage: tsx marbles/render.ts [name…]   (default: every scenario)
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createDiagramSpecification, createOperatorSpecification, createStreamSpecification } from '@swirly/parser';
import { renderMarbleDiagram } from '@swirly/renderer-node';
import { lightStyles } from '@swirly/theme-default-light';
import type { ObservableNotification } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { loadScenarios, runVirtual, type Scenario } from './scenario.ts';

interface Message {
  frame: number;
  notification: { kind: 'N'; value: string } | { kind: 'E' } | { kind: 'C' };
  styles?: Record<string, unknown>;
}

const label = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));

function toMessage(frame: number, notification: ObservableNotification<unknown>): Message {
  if (notification.kind === 'N') return { frame, notification: { kind: 'N', value: label(notification.value) } };
  return { frame, notification: { kind: notification.kind } };
}

/**
 * A stream of `messages` (absolute frames) starting at `start`. A completion or error in the same
 * frame as a value would be hidden under its circle, so it is drawn 0.6 frame later.
 */
function stream(title: string, start: number, messages: Message[]) {
  const valueFrames = new Set(messages.filter((m) => m.notification.kind === 'N').map((m) => m.frame));
  const relative = messages.map((m) => ({
    ...m,
    frame: m.frame - start + (m.notification.kind !== 'N' && valueFrames.has(m.frame) ? 0.6 : 0),
  }));
  return createStreamSpecification(relative as never, title, start);
}

function sourceMessages(scenario: Scenario): Message[] {
  // Outside run(), parseMarbles counts TestScheduler.frameTimeFactor per character; run mode counts 1.
  const parsed = TestScheduler.parseMarbles(scenario.source, scenario.values, new Error('source error'), false, true);
  return parsed.map(({ frame, notification }) => toMessage(frame / TestScheduler.frameTimeFactor, notification));
}

function operatorTitle(scenario: Scenario): string {
  const fn = scenario.fn.length <= 24 ? scenario.fn : 'fn';
  const options = Object.entries(scenario.options).map(([k, v]) => `${k}: ${typeof v === 'string' ? `'${v}'` : String(v)}`);
  const optionsText = options.length > 0 ? `, { ${options.join(', ')} }` : '';
  return `mapOnPool(pool, ${fn}${optionsText}) — ${scenario.maxWorkers} worker${scenario.maxWorkers === 1 ? '' : 's'}`;
}

export function renderScenario(scenario: Scenario): string {
  const run = runVirtual(scenario);
  const content: unknown[] = [stream('source', 0, sourceMessages(scenario))];
  for (const [i, record] of run.log.entries()) {
    if (record.startedAt === undefined) continue; // cancelled before it got a worker
    const title = `fn(${record.items.map(label).join(', ')})`;
    const end = record.endedAt ?? record.startedAt;
    const answer = run.answers[i];
    const messages: Message[] = [];
    if (record.state === 'cancelled' || answer === undefined) {
      messages.push({ frame: end, notification: { kind: 'N', value: '✕' }, styles: { fill_color: '#ffffff', stroke_color: '#888888', value_color: '#888888' } });
    } else if (answer.error) {
      messages.push({ frame: end, notification: { kind: 'E' } });
    } else {
      const { values, errors } = answer.result!;
      const failed = errors?.findIndex((e) => e !== undefined) ?? -1;
      const shown = failed < 0 ? values : values.slice(0, failed);
      for (const value of shown) messages.push({ frame: end, notification: { kind: 'N', value: label(value) } });
      messages.push({ frame: end, notification: { kind: failed < 0 ? 'C' : 'E' } });
    }
    content.push(stream(title, record.startedAt, messages));
  }
  if (run.drops.length > 0) {
    const drops = run.drops.map(({ frame, value }) => ({
      frame,
      notification: { kind: 'N' as const, value: label(value) },
      styles: { fill_color: '#ffffff', stroke_color: '#888888', value_color: '#888888' },
    }));
    content.push(stream('onDrop', 0, drops));
  }
  content.push(createOperatorSpecification([{ type: 'text', value: operatorTitle(scenario) }] as never));
  content.push(stream('output', 0, run.frames.map(({ frame, notification }) => toMessage(frame, notification))));
  const spec = createDiagramSpecification(content as never, {});
  const title = operatorTitle(scenario);
  const styles = {
    ...lightStyles,
    frame_width: 36,
    event_radius: 16,
    event_value_font_size: 15,
    stacking_height: 40,
    operator_title_font_size: 18,
    // The operator box spans the diagram: make the diagram wide enough for its title.
    minimum_width: Math.ceil(title.length * 18 * 0.56) + 40,
  };
  return renderMarbleDiagram(spec, { styles }).xml;
}

const dir = fileURLToPath(new URL('./', import.meta.url));
const only = process.argv.slice(2);
for (const scenario of loadScenarios(dir)) {
  if (only.length > 0 && !only.includes(scenario.name)) continue;
  const file = scenario.file.replace(/\.marble$/, '.svg');
  writeFileSync(file, `${renderScenario(scenario)}\n`);
  console.log(`rendered ${file}`);
}

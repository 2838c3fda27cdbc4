/**
 * A worker slot: one worker (thread or process) as the pool sees it. Its lifecycle is one field,
 * `phase`; `WorkerPool` makes every transition.
 *
 *     Starting ──Ready──► Ready ──(maxTasksPerWorker, an escaped error)──► Draining
 *        │                  │                                                 │
 *        │                  └──(idle: idleTimeout, shutdown, recycled)──► Leaving ◄──┘ (once it holds nothing)
 *        └─────────(timeout, abort of a running task, broken pool, force)──► Killed
 *     Leaving / Killed ──its exit──► Gone          (any phase ──it died on its own──► Gone)
 */

import type { TransferListItem } from 'node:worker_threads';
import type { Deadline } from './Deadline.ts';
import type { Job } from './Job.ts';
import type { ToWorker } from './protocol.ts';
import type { Transport } from './transport.ts';

export const SlotPhase = {
  /** Spawned; its initializer (if any) has not finished. Tasks may already be sent to it. */
  Starting: 0,
  /** Serving tasks. */
  Ready: 1,
  /** Takes no more work; finishes what it holds, then leaves. */
  Draining: 2,
  /** Out of service, asked to exit (it leaves once its pending I/O is done; stopped after a grace). */
  Leaving: 3,
  /** Out of service, stopped by the pool: nothing more is posted to it. */
  Killed: 4,
  /** Exited. */
  Gone: 5,
} as const;
export type SlotPhase = (typeof SlotPhase)[keyof typeof SlotPhase];

/** What a worker knows of a definition: nothing, sent (a module still importing), or ready to run. */
export const DefState = { Unknown: 0, Loading: 1, Loaded: 2 } as const;
export type DefState = (typeof DefState)[keyof typeof DefState];

export class WorkerSlot {
  phase: SlotPhase = SlotPhase.Starting;
  /** Jobs sent and not answered, in the order the worker runs them; [0] is running (or next). */
  readonly inflight: Job[] = [];
  /** By definition key: what this worker knows of it. */
  readonly defs: DefState[] = [];
  /** Tasks sent to it so far, for `maxTasksPerWorker`. */
  tasks = 0;
  /** Jobs sent to it so far: the next job's `seq`. */
  sent = 0;
  /** When its current head job started (for taking back the jobs behind a stalled one). */
  headSince = 0;
  idleTimer: Deadline | null = null;
  /** Leaving: when it is stopped if it has not exited by itself. */
  graceTimer: Deadline | null = null;
  /** Starting, or importing the head job's module: the start-up bound (`startTimeout`). */
  startTimer: Deadline | null = null;
  /** Held at the head of a process worker: when it is stopped if the worker neither drops nor answers it. */
  heldTimer: Deadline | null = null;
  /** The messages gathered for its next frame (see Outbox). */
  frame: ToWorker[] | null = null;
  frameTransfer: TransferListItem[] | undefined = undefined;
  transport!: Transport;

  /** Starting, Ready or Draining: counted as one of the pool's workers. */
  get inService(): boolean {
    return this.phase <= SlotPhase.Draining;
  }

  /** Starting or Ready: new work may be sent to it. */
  get takesWork(): boolean {
    return this.phase <= SlotPhase.Ready;
  }

  clearTimers(): void {
    for (const timer of [this.idleTimer, this.graceTimer, this.startTimer, this.heldTimer]) timer?.clear();
    this.idleTimer = this.graceTimer = this.startTimer = this.heldTimer = null;
  }

  /** Where the job with this id is in `inflight`, or -1. Answers are almost always for the head. */
  indexOf(id: number): number {
    const inflight = this.inflight;
    for (let i = 0; i < inflight.length; i++) if (inflight[i]!.id === id) return i;
    return -1;
  }
}

/**
 * A job is one message's worth of work: a `submit` (one call) or a batch (one call per item).
 * Its lifecycle is one field, `phase`; `WorkerPool` makes every transition.
 *
 *     Queued ──send──► Sent ──answer──────────────────────────────► Done
 *       ▲               │ ├─recall (process: Cancel sent)──► Recalling ──dropped──► Queued (steal) | Done (rejected)
 *       │               │ │                                     └──answered──► Done (its answer counts)
 *       │               │ ├─cancel, may have started──► Held ──dropped | answered──► Done (nobody waits)
 *       │               │ └─close (a stream its consumer left: Close sent)──► Closing ──answered | dropped | its worker stopped──► Done
 *       └──requeue──────┘ (its worker died or was stopped before it started)
 */

import type { TransferListItem } from 'node:worker_threads';
import type { AbortError } from '../errors.ts';
import type { Deadline } from './Deadline.ts';
import type { Definition } from './definitions.ts';
import type { StreamChannel } from './stream.ts';
import type { WorkerSlot } from './WorkerSlot.ts';

export const JobPhase = {
  /** In the pool's queue, waiting for a worker. */
  Queued: 0,
  /** In a worker's pipeline (`slot.inflight`): running, or waiting there behind the one running. */
  Sent: 1,
  /**
   * Asked back from a process worker's pipeline (Cancel sent); its caller still waits. If the
   * worker drops it, it is requeued (a steal) or rejected with `recallReason` (cancelPending); if
   * the worker ran it after all, its answer counts.
   */
  Recalling: 2,
  /**
   * Settled for its caller (aborted, cancelled) but still in a worker's pipeline, because it may
   * have started: it stays until the worker drops it or answers it. Nobody waits for it.
   */
  Held: 3,
  /** Settled, and out of every queue and pipeline. */
  Done: 4,
  /**
   * A stream whose consumer left while it ran (Close sent): its worker is calling the iterator's
   * `return()`. Settled with `recallReason` when the worker answers or drops it, or is stopped
   * (after STREAM_CLOSE_MS); the worker then serves other tasks. Its channel waits for it.
   */
  Closing: 5,
} as const;
export type JobPhase = (typeof JobPhase)[keyof typeof JobPhase];

/** How a job reports its outcome: an error, or the value (for a batch, a `BatchResult`). */
export type Settle = (error: Error | undefined, value: unknown) => void;

export class Job {
  phase: JobPhase = JobPhase.Queued;
  /** The worker holding it (Sent, Recalling, Held, Closing). */
  slot: WorkerSlot | null = null;
  /** Its running limit, armed once it is at the head of a ready worker's pipeline (a stream's pauses while it waits for credits). */
  timer: Pick<Deadline, 'clear'> | null = null;
  /** Recalling: why it is asked back; undefined for a steal (it is requeued if dropped). Closing: why it is closed. */
  recallReason: AbortError | undefined = undefined;
  /** Its number on the worker it was sent to (its cell in that worker's claims). */
  seq = 0;
  /** Next in the queue. */
  next: Job | null = null;
  constructor(
    readonly id: number,
    readonly def: Definition,
    /** Run: the arguments; Batch: the items. */
    readonly payload: readonly unknown[],
    readonly batch: boolean,
    readonly settle: Settle,
    /** Milliseconds per item it may run (Infinity: no limit). */
    readonly timeout: number,
    readonly transfer: TransferListItem[] | undefined,
    readonly signal: AbortSignal | undefined,
    /** A streaming task's channel (credits, values, its consumer); undefined for Run and Batch. */
    readonly stream?: StreamChannel,
  ) {}

  /** Tasks it counts for (a batch counts each item). */
  get size(): number {
    return this.batch ? this.payload.length : 1;
  }

  /** Its caller still waits for it. */
  get pending(): boolean {
    return this.phase !== JobPhase.Held && this.phase !== JobPhase.Done;
  }
}

/** FIFO of jobs. A job that leaves it early (cancelled) is skipped when it reaches the front. */
export class JobQueue {
  #head: Job | null = null;
  #tail: Job | null = null;
  /** Jobs still queued (cancelled ones not counted). */
  size = 0;

  push(job: Job): void {
    if (this.#tail) this.#tail.next = job;
    else this.#head = job;
    this.#tail = job;
    this.size++;
  }

  /** Puts jobs back at the front, keeping their order. */
  unshiftAll(jobs: readonly Job[]): void {
    for (let i = jobs.length - 1; i >= 0; i--) {
      const job = jobs[i]!;
      job.next = this.#head;
      this.#head = job;
      if (!this.#tail) this.#tail = job;
      this.size++;
    }
  }

  /** The first job still queued, or null. */
  peek(): Job | null {
    while (this.#head && this.#head.phase !== JobPhase.Queued) this.#unlink();
    return this.#head;
  }

  /** Removes and returns the first job still queued, or null. */
  shift(): Job | null {
    const job = this.peek();
    if (job) {
      this.#unlink();
      this.size--;
    }
    return job;
  }

  /** A queued job leaves early (it stays linked until it reaches the front, which skips it). */
  forget(): void {
    this.size--;
  }

  #unlink(): void {
    const job = this.#head!;
    this.#head = job.next;
    if (!this.#head) this.#tail = null;
    job.next = null;
  }
}

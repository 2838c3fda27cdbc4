/**
 * Frames: the messages queued for a worker in one tick travel together, so a burst of tasks costs
 * one postMessage per worker instead of one per task.
 */

import type { TransferListItem } from 'node:worker_threads';
import { FLUSH_LATER_AT } from './pipeline.ts';
import { Op, carriesTask, type ToWorker } from './protocol.ts';
import { SlotPhase, type WorkerSlot } from './WorkerSlot.ts';

export class Outbox {
  readonly #dirty: WorkerSlot[] = [];
  /** A flush is queued as a microtask / as an immediate. */
  #soon = false;
  #later = false;
  /** A message that cannot be cloned: called for each culprit after the rest of its frame went out. */
  readonly #onCloneFailure: (slot: WorkerSlot, message: ToWorker, error: unknown) => void;

  constructor(onCloneFailure: (slot: WorkerSlot, message: ToWorker, error: unknown) => void) {
    this.#onCloneFailure = onCloneFailure;
  }

  /**
   * Queues a message for `slot`. A worker with little to do gets it at the end of this tick (a
   * microtask); one that holds more than FLUSH_LATER_AT tasks can wait for the end of this turn of
   * the event loop (setImmediate), so the tasks started by a burst of answers travel together
   * instead of one postMessage each (measured: about 1.6× the throughput of mapOnPool at
   * concurrency 64 on tiny tasks, pool.map unchanged).
   */
  post(slot: WorkerSlot, message: ToWorker, transfer?: readonly TransferListItem[]): void {
    if (!slot.frame) {
      slot.frame = [];
      this.#dirty.push(slot);
    }
    slot.frame.push(message);
    if (transfer) (slot.frameTransfer ??= []).push(...transfer);
    if (slot.inflight.length <= FLUSH_LATER_AT || message[0] === Op.Cancel || message[0] === Op.Exit) {
      if (!this.#soon) {
        this.#soon = true;
        queueMicrotask(this.#flush);
      }
    } else if (!this.#later) {
      this.#later = true;
      setImmediate(this.#flush);
    }
  }

  readonly #flush = (): void => {
    this.#soon = false;
    this.#later = false;
    for (const slot of this.#dirty.splice(0)) {
      const frame = slot.frame!;
      const transfer = slot.frameTransfer;
      slot.frame = null;
      slot.frameTransfer = undefined;
      if (slot.phase >= SlotPhase.Killed) continue;
      try {
        slot.transport.post(frame, transfer);
      } catch {
        this.#postEach(slot, frame);
      }
    }
  };

  /** Something in the frame cannot be cloned: post message by message and report only the culprits. */
  #postEach(slot: WorkerSlot, frame: ToWorker[]): void {
    for (const message of frame) {
      try {
        const job = carriesTask(message) ? slot.inflight[slot.indexOf(message[1])] : undefined;
        slot.transport.post([message], job?.transfer);
      } catch (error) {
        this.#onCloneFailure(slot, message, error);
      }
    }
  }
}

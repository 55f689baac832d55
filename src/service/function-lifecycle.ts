// A function's lifecycle as Lambda reports it: CreateFunction answers State Pending, and the function becomes Active
// once it is ready; an update answers LastUpdateStatus InProgress, and becomes Successful once it is done. Each
// transition mints a new RevisionId, as AWS does (the create answer's RevisionId is not the Active function's).
// Meanwhile an update is refused with 409, and so is an invoke of a Pending function, in AWS's words.
//
// When the work runs: Lambda refuses a package it cannot unzip, or one over its limits, in CreateFunction's (and
// UpdateFunctionCode's) own answer, so the zip is stored, checked and extracted before the answer, as before. What
// is left after it is making the extracted code durable: the tree is flushed to disk file by file in the background
// (code-store.ts), and the function becomes Active (an update Successful) only once that is done, so an Active
// function's code outlives a power cut. For a small package that takes milliseconds, for a large one seconds: the
// time the work takes, never a wait of its own. An image is inspected before the answer too: Lambda's Pending answer
// already carries the image's digest as CodeSha256, and a missing image is refused in it with a 400
// (test_lambda_api.snapshot.json, test_lambda_image_crud; handlers/function-code.ts). lambkin runs the image where
// it is (Lambda copies it, the part its Pending covers), so an image function becomes Active right after its answer.
import { randomUUID } from 'node:crypto';
import type { FunctionRecord } from './function-record.ts';
import type { FunctionInvoker } from './invoker.ts';
import { resourceConflict } from './lambda-error.ts';
import type { FunctionStore } from './storage/function-store.ts';

/** What Lambda says of a function being created, and of an update in progress (AWS says the same for both). */
export const CREATING = { reason: 'The function is being created.', code: 'Creating' } as const;

/** Where transitions happen: the store, and the invoker whose environments follow the function's revision. */
export interface LifecycleHome {
  store: FunctionStore;
  invoker?: FunctionInvoker;
}

/** Transitions running in this process, per store and function name. */
const running = new WeakMap<FunctionStore, Map<string, Promise<FunctionRecord | undefined>>>();

function runningIn(store: FunctionStore): Map<string, Promise<FunctionRecord | undefined>> {
  let map = running.get(store);
  if (!map) running.set(store, (map = new Map()));
  return map;
}

/** The function is between an answer and its transition: Pending, or an update InProgress. */
export function inTransition(fn: FunctionRecord): boolean {
  return fn.state === 'Pending' || fn.lastUpdateStatus === 'InProgress';
}

/**
 * Starts `fn`'s transition (Pending to Active, InProgress to Successful), right after the answer that stored it is
 * sent (setImmediate: the caller answers first). Resolves the record it wrote; undefined when the function changed
 * or went meanwhile, or the store closed (a later read finishes it: see current()).
 */
export function startTransition(home: LifecycleHome, fn: FunctionRecord): Promise<FunctionRecord | undefined> {
  const transitions = runningIn(home.store);
  const done: Promise<FunctionRecord | undefined> = new Promise<void>((resolve) => setImmediate(resolve))
    .then(() => transition(home, fn))
    .catch(() => undefined)
    .finally(() => {
      if (transitions.get(fn.name) === done) transitions.delete(fn.name);
    });
  transitions.set(fn.name, done);
  return done;
}

/** Resolves once `name`'s transition running in this process (if any) is done: for `lambkin serve`'s own functions. */
export function settled(store: FunctionStore, name: string): Promise<unknown> {
  return running.get(store)?.get(name) ?? Promise.resolve();
}

/**
 * `fn` as callers should see it: a transition that no one is running (lambkin stopped between the answer and the
 * transition) is finished now, since everything it waited for was done before the answer or is repaired at open.
 */
export async function current(home: LifecycleHome, fn: FunctionRecord): Promise<FunctionRecord> {
  if (!inTransition(fn) || runningIn(home.store).has(fn.name)) return fn;
  return (await transition(home, fn)) ?? (await home.store.get(fn.name)) ?? fn;
}

async function transition(home: LifecycleHome, fn: FunctionRecord): Promise<FunctionRecord | undefined> {
  if (fn.code.kind === 'zip') await home.store.durable?.(fn.code);
  const next = await home.store.transition(fn.name, fn.revisionId, {
    ...(fn.state === 'Pending' ? { state: 'Active' } : {}),
    lastUpdateStatus: 'Successful',
    revisionId: randomUUID(),
  });
  if (!next) return undefined;
  // Environments are keyed by RevisionId: any started in between (an invoke during an update) are replaced. No
  // provisioned concurrency follows: it is only ever on published versions, which an update leaves as they are.
  home.invoker?.retire?.(next.name);
  return next;
}

/** Refuses what Lambda refuses while a function is Pending or being updated: an update (or an invoke, when Pending). */
export function checkNotInTransition(fn: FunctionRecord): void {
  if (fn.state === 'Pending') throw notActive(fn);
  if (fn.lastUpdateStatus === 'InProgress') throw updateInProgress(fn);
}

/** 409, as AWS answers an invoke or an update of a function that is not Active yet. */
export const notActive = (fn: FunctionRecord) =>
  resourceConflict(`The operation cannot be performed at this time. The function is currently in the following state: ${fn.state}`);

/** 409, as AWS answers an update while another is in progress. */
export const updateInProgress = (fn: FunctionRecord) =>
  resourceConflict(`The operation cannot be performed at this time. An update is in progress for resource: ${fn.arn}`);

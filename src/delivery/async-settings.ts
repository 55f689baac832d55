// What decides an asynchronous event's fate, per qualifier: PutFunctionEventInvokeConfig's retry attempts, maximum
// event age and destinations, with Lambda's defaults when none is configured (2 retries, 6 hours, no destination),
// and the dead-letter queue a version carries (DeadLetterConfig, frozen with the version like the rest of its
// configuration). The delivery worker (src/delivery/) reads these for each event; the control plane writes them.

/** How an event sent to one qualifier (or to none: $LATEST) is retried and where its result goes. */
export interface AsyncSettings {
  /** Retries after a function error: 0 to 2. */
  maximumRetryAttempts: number;
  /** An event older than this (seconds since it was accepted) is not tried again: 60 to 21,600. */
  maximumEventAgeInSeconds: number;
  /** Destination ARN for the record of a successful invoke. */
  onSuccess?: string;
  /** Destination ARN for the record of an event whose retries ran out or which grew too old. */
  onFailure?: string;
}

/** Lambda's behaviour with no event-invoke config. */
export const DEFAULT_ASYNC_SETTINGS: Readonly<AsyncSettings> = { maximumRetryAttempts: 2, maximumEventAgeInSeconds: 21_600 };

// A qualifier's event-invoke config as the service keeps it (function-record.ts EventInvokeConfigRecord, on $LATEST,
// by qualifier) and as the Lambda API shows it (FunctionEventInvokeConfig), and what the delivery worker reads for an
// event: the qualifier's settings over Lambda's defaults, with the dead-letter queue of the version that ran.
import { DEFAULT_ASYNC_SETTINGS, type AsyncSettings } from '../delivery/async-settings.ts';
import { LATEST } from '../invocation/resolve-function.ts';
import type { EventInvokeConfigRecord, FunctionRecord } from './function-record.ts';

/** What an event's delivery needs to know beyond AsyncSettings: the version's DeadLetterConfig.TargetArn, if any. */
export interface QualifierAsyncSettings extends AsyncSettings {
  deadLetterTarget?: string;
}

/** The configs of the function whose $LATEST is `latest`, by qualifier. */
export function eventInvokeConfigsOf(latest: FunctionRecord): Record<string, EventInvokeConfigRecord> {
  return latest.eventInvokeConfigs ?? {};
}

/** Lambda's LastModified for this config: epoch seconds, with milliseconds as the fraction. */
export function eventInvokeTimestamp(now = Date.now()): number {
  return now / 1000;
}

/**
 * The FunctionEventInvokeConfig shape: `qualifiedArn` always names the qualifier (`:$LATEST` too). Both destinations
 * are shown, `{}` when unset, and a setting never given is left out, as AWS answers (test_lambda_api.snapshot.json,
 * TestLambdaEventInvokeConfig).
 */
export function eventInvokeConfigJson(qualifiedArn: string, config: EventInvokeConfigRecord): Record<string, unknown> {
  return {
    LastModified: config.lastModified,
    FunctionArn: qualifiedArn,
    ...(config.maximumRetryAttempts === undefined ? {} : { MaximumRetryAttempts: config.maximumRetryAttempts }),
    ...(config.maximumEventAgeInSeconds === undefined ? {} : { MaximumEventAgeInSeconds: config.maximumEventAgeInSeconds }),
    DestinationConfig: {
      OnSuccess: config.onSuccess ? { Destination: config.onSuccess } : {},
      OnFailure: config.onFailure ? { Destination: config.onFailure } : {},
    },
  };
}

/**
 * How an event sent to `qualifier` (undefined: none, so $LATEST) is handled: that qualifier's config merged over
 * Lambda's defaults, and the dead-letter queue of `version`, the record of the version that runs it (an alias's
 * config applies to events sent through the alias, whichever version it routes them to; the DLQ is that version's).
 */
export function asyncSettingsFor(latest: FunctionRecord, version: FunctionRecord, qualifier: string | undefined): QualifierAsyncSettings {
  const config = eventInvokeConfigsOf(latest)[qualifier ?? LATEST];
  return {
    maximumRetryAttempts: config?.maximumRetryAttempts ?? DEFAULT_ASYNC_SETTINGS.maximumRetryAttempts,
    maximumEventAgeInSeconds: config?.maximumEventAgeInSeconds ?? DEFAULT_ASYNC_SETTINGS.maximumEventAgeInSeconds,
    ...(config?.onSuccess ? { onSuccess: config.onSuccess } : {}),
    ...(config?.onFailure ? { onFailure: config.onFailure } : {}),
    ...(version.deadLetterTargetArn ? { deadLetterTarget: version.deadLetterTargetArn } : {}),
  };
}

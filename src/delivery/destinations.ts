// Where an asynchronous invoke's results go: its OnSuccess / OnFailure destination (the invocation record to an SQS
// queue, an SNS topic, an EventBridge bus or another function) and the version's dead-letter queue or topic (the
// original event, with RequestID, ErrorCode and ErrorMessage attributes). lambkin emulates Lambda, not these services:
// it reaches them with the AWS SDK v3 and the SDK's standard endpoint settings.
//
// A destination that cannot be reached throws a DestinationDeliveryError, within `timeoutMs`: the delivery worker
// logs and counts it (DestinationDeliveryFailures, DeadLetterErrors) and moves on, as Lambda drops the record.
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { PublishCommand } from '@aws-sdk/client-sns';
import { GetQueueUrlCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { type DestinationRecord, isSuccessRecord } from './destination-record.ts';
import { AwsClients } from './destinations/aws-clients.ts';
import { type DeadLetterCause, deadLetterAttributes } from './destinations/dead-letter-attributes.ts';
import { type DestinationArn, parseDestinationArn } from './destinations/destination-arn.ts';

export type { DeadLetterCause } from './destinations/dead-letter-attributes.ts';

/** An asynchronous invoke of another function of this lambkin (its own event queue): a Lambda destination. */
export type InvokeAsync = (functionArn: string, payload: Buffer) => Promise<void>;

export interface DestinationsOptions {
  /** Queues an event for a function of this lambkin; without it, Lambda destinations fail. */
  invokeAsync?: InvokeAsync;
  /** How long one delivery may take, retries by the SDK included. */
  timeoutMs?: number;
}

export type DestinationErrorCode = 'DestinationTimeout' | 'DestinationUnsupported' | 'DestinationFailed';

/** A record or event that did not reach its destination. */
export class DestinationDeliveryError extends Error {
  override name = 'DestinationDeliveryError';
  readonly code: DestinationErrorCode;
  readonly destinationArn: string;

  constructor(code: DestinationErrorCode, destinationArn: string, reason: string, options?: ErrorOptions) {
    super(`Could not deliver to ${destinationArn}: ${reason}`, options);
    this.code = code;
    this.destinationArn = destinationArn;
  }
}

export const DEFAULT_DESTINATION_TIMEOUT_MS = 10_000;

const SUCCESS_DETAIL_TYPE = 'Lambda Function Invocation Result - Success';
const FAILURE_DETAIL_TYPE = 'Lambda Function Invocation Result - Failure';

export class Destinations {
  readonly #clients = new AwsClients();
  readonly #queueUrls = new Map<string, Promise<string>>();
  readonly #invokeAsync: InvokeAsync | undefined;
  readonly #timeoutMs: number;
  #closed = false;

  constructor(options: DestinationsOptions = {}) {
    this.#invokeAsync = options.invokeAsync;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_DESTINATION_TIMEOUT_MS;
  }

  /** Sends an invocation record to an OnSuccess / OnFailure destination. */
  send(destinationArn: string, record: DestinationRecord): Promise<void> {
    return this.#deliver(destinationArn, async (target, signal) => {
      const body = JSON.stringify(record);
      switch (target.service) {
        case 'sqs':
          await this.#sendToQueue(target, body, undefined, signal);
          return;
        case 'sns':
          await this.#clients.sns(target.region).send(new PublishCommand({ TopicArn: target.arn, Message: body }), { abortSignal: signal });
          return;
        case 'events':
          await this.#putEvent(target, record, body, signal);
          return;
        case 'lambda':
          await this.#invokeFunction(target, body);
          return;
        default:
          throw unsupported(target, 'OnSuccess and OnFailure destinations are SQS queues, SNS topics, EventBridge buses and Lambda functions');
      }
    });
  }

  /** Sends an event that failed to the function's dead-letter queue or topic (DeadLetterConfig.TargetArn). */
  deadLetter(targetArn: string, event: Buffer, cause: DeadLetterCause): Promise<void> {
    return this.#deliver(targetArn, async (target, signal) => {
      const body = event.toString('utf8');
      const attributes = deadLetterAttributes(cause);
      switch (target.service) {
        case 'sqs':
          await this.#sendToQueue(target, body, attributes, signal);
          return;
        case 'sns':
          await this.#clients
            .sns(target.region)
            .send(new PublishCommand({ TopicArn: target.arn, Message: body, MessageAttributes: attributes }), { abortSignal: signal });
          return;
        default:
          throw unsupported(target, 'a dead-letter target is an SQS queue or an SNS topic');
      }
    });
  }

  /** Destroys the SDK clients; a send still under way fails, and so does any later one (no client is built again). */
  close(): void {
    this.#closed = true;
    this.#clients.destroy();
    this.#queueUrls.clear();
  }

  async #deliver(destinationArn: string, deliver: (target: DestinationArn, signal: AbortSignal) => Promise<void>): Promise<void> {
    const target = parseDestinationArn(destinationArn);
    if (!target) throw new DestinationDeliveryError('DestinationUnsupported', destinationArn, 'not an ARN');
    if (this.#closed) throw new DestinationDeliveryError('DestinationFailed', destinationArn, 'destinations are closed (lambkin is stopping)');
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    // The SDK honours the abort signal only between its steps (a retry's back-off sleeps through it): the race makes
    // the deadline the caller's, whatever the SDK is doing.
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(new DestinationDeliveryError('DestinationTimeout', destinationArn, `no answer within ${this.#timeoutMs} ms`));
      }, this.#timeoutMs);
    });
    try {
      await Promise.race([deliver(target, controller.signal), deadline]);
    } catch (error) {
      if (error instanceof DestinationDeliveryError) throw error;
      throw new DestinationDeliveryError('DestinationFailed', destinationArn, describe(error), { cause: error });
    } finally {
      clearTimeout(timer);
    }
  }

  async #sendToQueue(target: DestinationArn, body: string, attributes: ReturnType<typeof deadLetterAttributes> | undefined, signal: AbortSignal) {
    const sqs = this.#clients.sqs(target.region);
    const queueUrl = await this.#queueUrl(target, signal);
    try {
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body, MessageAttributes: attributes }), { abortSignal: signal });
    } catch (error) {
      // The queue may have been deleted and created again under a new URL: look it up afresh next time.
      this.#queueUrls.delete(target.arn);
      throw error;
    }
  }

  // An ARN names a queue; SQS's calls take its URL, which only the queue's endpoint knows (fauxqs, LocalStack and AWS
  // each shape it their own way). Queues of other accounts are normal (a shared DLQ), hence the owner account.
  #queueUrl(target: DestinationArn, signal: AbortSignal): Promise<string> {
    let url = this.#queueUrls.get(target.arn);
    if (!url) {
      url = this.#clients
        .sqs(target.region)
        .send(new GetQueueUrlCommand({ QueueName: target.resource, QueueOwnerAWSAccountId: target.account }), { abortSignal: signal })
        .then((answer) => {
          if (!answer.QueueUrl) throw new Error('GetQueueUrl answered without a QueueUrl');
          return answer.QueueUrl;
        });
      this.#queueUrls.set(target.arn, url);
      url.catch(() => this.#queueUrls.delete(target.arn));
    }
    return url;
  }

  async #putEvent(target: DestinationArn, record: DestinationRecord, body: string, signal: AbortSignal) {
    const entry = {
      EventBusName: target.arn,
      Source: 'lambda',
      DetailType: isSuccessRecord(record) ? SUCCESS_DETAIL_TYPE : FAILURE_DETAIL_TYPE,
      Resources: [target.arn, record.requestContext.functionArn],
      Detail: body,
    };
    const answer = await this.#clients.eventBridge(target.region).send(new PutEventsCommand({ Entries: [entry] }), { abortSignal: signal });
    // PutEvents answers 200 even when it refuses an entry; the refusal is in the entry's result.
    const refused = answer.Entries?.find((result) => result.ErrorCode);
    if ((answer.FailedEntryCount ?? 0) > 0 || refused) {
      throw new Error(`PutEvents refused the event: ${refused?.ErrorCode ?? 'unknown'}: ${refused?.ErrorMessage ?? ''}`.trim());
    }
  }

  async #invokeFunction(target: DestinationArn, body: string) {
    if (!this.#invokeAsync) throw unsupported(target, 'this lambkin cannot invoke functions asynchronously');
    await this.#invokeAsync(target.arn, Buffer.from(body, 'utf8'));
  }
}

function unsupported(target: DestinationArn, why: string): DestinationDeliveryError {
  return new DestinationDeliveryError('DestinationUnsupported', target.arn, `lambkin does not deliver to ${target.service}: ${why}`);
}

// The SDK's service errors carry the service's own code as their name (QueueDoesNotExist, NotFound); network errors
// carry Node's code (ECONNREFUSED): either tells the user what to fix.
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  const name = typeof code === 'string' ? code : error.name;
  return name && name !== 'Error' && !error.message.includes(name) ? `${name}: ${error.message}` : error.message;
}

// A real SQS/SNS implementation for a test file: npm `fauxqs` (kibertoad/fauxqs), started in this process on a free
// loopback port, and stopped by stop(). Its queues and topics belong to account 000000000000, another account than
// lambkin's, as a shared dead-letter queue would on AWS.
//
// Its queue URLs name hosts under the listening address (sqs.us-east-1.127.0.0.1:PORT) that need not resolve: the
// reading client here, like lambkin's, sends to the endpoint and not to the URL's host (useQueueUrlAsEndpoint: false).
import { type Message, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { type FauxqsServer, startFauxqs } from 'fauxqs';

export const FAUXQS_ACCOUNT = '000000000000';
export const FAUXQS_REGION = 'us-east-1';

export interface Fauxqs {
  server: FauxqsServer;
  /** http://127.0.0.1:PORT: the value for AWS_ENDPOINT_URL_SQS / AWS_ENDPOINT_URL_SNS. */
  endpoint: string;
  /** A client that reads what lambkin sent (maxAttempts 1: a failure shows at once). */
  sqs: SQSClient;
  /** Creates a queue; returns its ARN and URL. */
  createQueue(name: string): { queueArn: string; queueUrl: string };
  /** Creates a topic whose messages arrive in a new queue of the same name plus `-subscriber`. */
  createSubscribedTopic(name: string): { topicArn: string; queueUrl: string };
  /** Waits (long polls) for one message on a queue, with all of its attributes; fails after `waitSeconds`. */
  receiveOne(queueUrl: string, waitSeconds?: number): Promise<Message>;
  stop(): Promise<void>;
}

export async function startFauxqsForTest(): Promise<Fauxqs> {
  const server = await startFauxqs({ port: 0, host: '127.0.0.1', logger: false, defaultRegion: FAUXQS_REGION });
  const endpoint = `http://127.0.0.1:${server.port}`;
  const sqs = new SQSClient({
    endpoint,
    region: FAUXQS_REGION,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    useQueueUrlAsEndpoint: false,
    maxAttempts: 1,
  });
  let stopping: Promise<void> | undefined;
  return {
    server,
    endpoint,
    sqs,
    createQueue: (name) => {
      const { queueArn, queueUrl } = server.createQueue(name);
      return { queueArn, queueUrl };
    },
    createSubscribedTopic: (name) => {
      const { topicArn } = server.createTopic(name);
      const { queueUrl } = server.createQueue(`${name}-subscriber`);
      server.subscribe({ topic: name, queue: `${name}-subscriber` });
      return { topicArn, queueUrl };
    },
    receiveOne: async (queueUrl, waitSeconds = 5) => {
      const answer = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 1,
          WaitTimeSeconds: waitSeconds,
          MessageAttributeNames: ['All'],
          MessageSystemAttributeNames: ['All'],
        }),
      );
      const message = answer.Messages?.[0];
      if (!message) throw new Error(`no message on ${queueUrl} within ${waitSeconds} s`);
      return message;
    },
    stop: () =>
      (stopping ??= (async () => {
        sqs.destroy();
        await server.stop();
      })()),
  };
}

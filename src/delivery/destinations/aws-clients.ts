// One SDK client per service and region, built on first use and reused: a client holds its connection pool and its
// resolved credentials, so building one per record would cost a TLS handshake and a credential lookup each time.
// Endpoints come from the SDK's own standard settings (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_SQS, …, the shared config
// file's endpoint_url): the same lambkin then talks to real AWS, LocalStack, ElasticMQ or fauxqs.
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';

export class AwsClients {
  readonly #sqs = new Map<string, SQSClient>();
  readonly #sns = new Map<string, SNSClient>();
  readonly #eventBridge = new Map<string, EventBridgeClient>();

  sqs(region: string): SQSClient {
    // A queue URL's host (sqs.us-east-1.localhost:4566 from fauxqs, a LocalStack host name) need not resolve from
    // here; the configured endpoint is what the user chose to reach, so requests go there, not to the URL's host.
    // md5: false: the SDK would MD5 every received body and attribute set against the queue's digests (a sixth of an
    // SQS poller's CPU here, measured); the bodies come over the same connection as their digests, and a queue
    // emulator with a wrong digest would fail every receive.
    return cached(this.#sqs, region, () => new SQSClient({ region, useQueueUrlAsEndpoint: false, md5: false }));
  }

  sns(region: string): SNSClient {
    return cached(this.#sns, region, () => new SNSClient({ region }));
  }

  eventBridge(region: string): EventBridgeClient {
    return cached(this.#eventBridge, region, () => new EventBridgeClient({ region }));
  }

  /** Destroys every client (their sockets). */
  destroy(): void {
    for (const clients of [this.#sqs, this.#sns, this.#eventBridge]) {
      for (const client of clients.values()) client.destroy();
      clients.clear();
    }
  }
}

function cached<T>(clients: Map<string, T>, region: string, build: () => T): T {
  let client = clients.get(region);
  if (!client) {
    client = build();
    clients.set(region, client);
  }
  return client;
}

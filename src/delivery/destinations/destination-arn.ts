// Which service a destination ARN names, and where: the region picks the client, the rest picks the call.

export interface DestinationArn {
  arn: string;
  /** The ARN's service field: `sqs`, `sns`, `events`, `lambda`, `s3`, … */
  service: string;
  region: string;
  account: string;
  /** Everything after the account: a queue or topic name, `event-bus/name`, `function:name[:qualifier]`. */
  resource: string;
}

const ARN = /^arn:[^:]+:([^:]+):([^:]*):([^:]*):(.+)$/;

/** The parts of an ARN, or undefined when it is not one. */
export function parseDestinationArn(arn: string): DestinationArn | undefined {
  const match = ARN.exec(arn);
  if (!match) return undefined;
  const [, service, region, account, resource] = match as unknown as [string, string, string, string, string];
  return { arn, service, region, account, resource };
}

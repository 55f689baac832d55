// Where functions say they run: the region and account every function ARN carries, the service's (ListFunctions,
// errors), an environment's (Lambda-Runtime-Invoked-Function-Arn, AWS_REGION) and the emulator's alike. One default
// for all of them, so that an ARN a function sees is one the Lambda API would also name.

/** The region and account in ARNs. */
export interface ServiceIdentity {
  region: string;
  accountId: string;
}

/** The documentation's example account: what the AWS CLI and SDK examples already show. */
export const DEFAULT_IDENTITY: ServiceIdentity = { region: 'us-east-1', accountId: '123456789012' };

export function functionArn(identity: ServiceIdentity, name: string, qualifier?: string): string {
  const arn = `arn:aws:lambda:${identity.region}:${identity.accountId}:function:${name}`;
  return qualifier === undefined ? arn : `${arn}:${qualifier}`;
}

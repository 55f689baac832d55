// AuthType AWS_IAM: the request must carry a SigV4 signature (service `lambda`) by a key lambkin accepts
// (src/iam/sigv4-verifier.ts). The signature covers the request as the client sent it, path form prefix included.
import type { IncomingMessage } from 'node:http';
import { type KeyLookup, signedRequestOf, verifySigV4 } from '../iam/sigv4-verifier.ts';

/** Who called, as the event's requestContext.authorizer.iam shows it. */
export interface IamCaller {
  accessKey: string;
  accountId: string;
  callerId: string;
  cognitoIdentity: null;
  principalOrgId: null;
  userArn: string;
  userId: string;
}

/** Checks an AWS_IAM URL's request: its caller, or undefined to refuse it (403). */
export type IamCheck = (req: IncomingMessage, body: Buffer) => Promise<IamCaller | undefined>;

export function sigV4Check(keys: KeyLookup): IamCheck {
  return async (req, body) => {
    const result = await verifySigV4(signedRequestOf(req, body), keys);
    if (!result.ok) return undefined;
    const { accessKeyId, accountId, principalArn } = result.identity;
    // A root principal's user id is its account; another principal is named by its access key.
    const userId = principalArn.endsWith(':root') ? accountId : accessKeyId;
    return { accessKey: accessKeyId, accountId, callerId: userId, cognitoIdentity: null, principalOrgId: null, userArn: principalArn, userId };
  };
}

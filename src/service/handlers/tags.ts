// TagResource, UntagResource and ListTags. (Being written: until then they answer as an unsupported operation.)
import { unknownOperation } from '../lambda-error.ts';
import type { OperationHandler } from './context.ts';

const notYet: OperationHandler = async (_context, request) => {
  throw unknownOperation('GET', `/2017-03-31/tags/${request.resource ?? ''}`);
};
export const tagResource = notYet;
export const untagResource = notYet;
export const listTags = notYet;

// PublishVersion and ListVersionsByFunction. (Being written: until then they answer as an unsupported operation.)
import { unknownOperation } from '../lambda-error.ts';
import type { OperationHandler } from './context.ts';

const notYet: OperationHandler = async (_context, request) => {
  throw unknownOperation('POST', `/2015-03-31/functions/${request.functionName ?? ''}/versions`);
};
export const publishVersion = notYet;
export const listVersionsByFunction = notYet;

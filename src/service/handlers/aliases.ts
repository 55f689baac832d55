// CreateAlias, GetAlias, UpdateAlias, DeleteAlias and ListAliases. (Being written: until then they answer as an
// unsupported operation.)
import { unknownOperation } from '../lambda-error.ts';
import type { OperationHandler } from './context.ts';

const notYet: OperationHandler = async (_context, request) => {
  throw unknownOperation('POST', `/2015-03-31/functions/${request.functionName ?? ''}/aliases`);
};
export const createAlias = notYet;
export const getAlias = notYet;
export const updateAlias = notYet;
export const deleteAlias = notYet;
export const listAliases = notYet;

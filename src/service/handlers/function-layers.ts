// A function's Layers (CreateFunction, UpdateFunctionConfiguration): LayerVersionArns of this service's layers,
// at most 5, one version per layer, and no more than 250 MB unzipped together with the function's own code.
import type { FunctionLayer, FunctionRecord, ImageCode, ZipCode } from '../function-record.ts';
import { invalidParameter, validationError } from '../lambda-error.ts';
import type { ServiceContext } from './context.ts';
import { LAYER_VERSION_ARN, layerStoreOf } from './layers.ts';

export const MAX_LAYERS = 5;
const ARN_PATTERN = '(arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+)|(arn:[a-zA-Z0-9-]+:lambda:::awslayer:[a-zA-Z0-9-_]+)';

/** The layer versions `value` names, in order; refuses what Lambda refuses. */
export async function resolveLayers(context: Pick<ServiceContext, 'store' | 'identity'>, value: unknown): Promise<FunctionLayer[]> {
  if (value === null) return [];
  if (!Array.isArray(value) || value.some((arn) => typeof arn !== 'string')) throw invalidParameter('Layers must be a list of layer version ARNs.');
  const arns = value as string[];
  if (arns.length === 0) return [];
  const shown = `[${arns.join(', ')}]`;
  if (arns.length > MAX_LAYERS) throw invalidParameter(`Cannot reference more than ${MAX_LAYERS} layers.`);
  const parsed = arns.map((arn) => {
    const match = arn.length <= 140 ? LAYER_VERSION_ARN.exec(arn) : null;
    if (!match) {
      throw validationError(
        shown,
        'layers',
        'Member must satisfy constraint: ' +
          `[Member must have length less than or equal to 140, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: ${ARN_PATTERN}]`,
      );
    }
    return { arn, region: match[1]!, name: match[3]!, version: Number(match[4]) };
  });
  if (parsed.some((layer) => layer.region !== context.identity.region)) {
    throw invalidParameter(`Layers are not in the same region as the function. Layers are expected to be in region ${context.identity.region}.`);
  }
  for (const [i, layer] of parsed.entries()) {
    const other = parsed.slice(0, i).find((earlier) => earlier.name === layer.name);
    if (other) {
      throw invalidParameter(
        `Two different versions of the same layer are not allowed to be referenced in the same function. ${other.arn} and ${layer.arn} are versions of the same layer.`,
      );
    }
  }
  const store = layerStoreOf(context);
  const layers: FunctionLayer[] = [];
  for (const { arn, name, version } of parsed) {
    const record = await store.get(name, version);
    // Another region's or account's layer is not here either.
    if (!record || record.layerVersionArn !== arn) throw invalidParameter(`Layer version ${arn} does not exist.`);
    layers.push({
      arn,
      codeSize: record.code.size,
      sha256: record.code.sha256,
      unzippedSize: record.code.unzippedSize ?? 0,
      contentDirectory: record.code.taskRoot,
    });
  }
  return layers;
}

/**
 * Sets `fn`'s layers (none: removes them) after checking them with its code against Lambda's 250 MB, and makes
 * their merged /opt folder.
 */
export async function applyLayers(context: Pick<ServiceContext, 'store'>, fn: FunctionRecord, layers: FunctionLayer[]): Promise<void> {
  if (layers.length === 0) {
    delete fn.layers;
    delete fn.layerDirectory;
    return;
  }
  checkCombinedSize(context, fn.code, layers);
  fn.layers = layers;
  fn.layerDirectory = await layerStoreOf(context).mergedDirectory(layers);
}

/** Lambda's 250 MB counts the function's code and all its layers, unzipped. */
export function checkCombinedSize(context: Pick<ServiceContext, 'store'>, code: ZipCode | ImageCode, layers: readonly FunctionLayer[]): void {
  if (layers.length === 0 || code.kind !== 'zip') return;
  const limit = layerStoreOf(context).maxUnzippedBytes;
  const total = layers.reduce((sum, layer) => sum + layer.unzippedSize, code.unzippedSize ?? 0);
  if (total > limit) {
    throw invalidParameter(`Function code combined with layers exceeds the maximum allowed size of ${limit} bytes. The actual size is ${total} bytes.`);
  }
}

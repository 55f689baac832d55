// An alias as the Lambda API shows it (AliasConfiguration): what CreateAlias, GetAlias, UpdateAlias and ListAliases
// answer. RoutingConfig appears only while the alias routes a share to another version, as AWS shows it
// (test_lambda_api.snapshot.json, TestLambdaAlias::test_alias_lifecycle).
import { functionArn, type AliasRecord, type ServiceIdentity } from './function-record.ts';

export function aliasArn(identity: ServiceIdentity, functionName: string, aliasName: string): string {
  return functionArn(identity, functionName, aliasName);
}

export function aliasConfiguration(identity: ServiceIdentity, alias: AliasRecord): Record<string, unknown> {
  const json: Record<string, unknown> = {
    AliasArn: aliasArn(identity, alias.functionName, alias.name),
    Name: alias.name,
    FunctionVersion: alias.functionVersion,
    Description: alias.description,
    RevisionId: alias.revisionId,
  };
  if (alias.additionalVersionWeights && Object.keys(alias.additionalVersionWeights).length > 0) {
    json.RoutingConfig = { AdditionalVersionWeights: alias.additionalVersionWeights };
  }
  return json;
}

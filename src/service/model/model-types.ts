// The part of Lambda's service model (botocore's service-2.json) that request validation reads; lambda-model.ts is
// generated in this form by tools/extract-lambda-model.ts.

export interface MemberRef {
  shape: string;
  /** Where the member is read from when not from the JSON body: `uri` (a path parameter), `querystring`, `header`. */
  location?: 'uri' | 'querystring' | 'header' | 'headers';
  /** The path parameter's, query parameter's or header's name. */
  locationName?: string;
}

export interface ModelShape {
  type: string;
  members?: Record<string, MemberRef>;
  required?: string[];
  /** A Java regular expression the whole value must match. */
  pattern?: string;
  /** Length (strings, lists, maps) or value (numbers) bounds. */
  min?: number;
  max?: number;
  enum?: string[];
  /** Its values are secret: a violation names the field without the value. */
  sensitive?: boolean;
  /** The member that is the whole HTTP body (a blob: Invoke's Payload, InvokeAsync's InvokeArgs), not a JSON field. */
  payload?: string;
  /** A list's member shape; a map's key and value shapes. */
  member?: string;
  key?: string;
  value?: string;
}

export interface LambdaModel {
  /** Each operation's input shape (null: the operation takes no input). */
  operations: Record<string, string | null>;
  shapes: Record<string, ModelShape>;
  /** Every operation of the Lambda API and its HTTP route (requestUri: `/2015-03-31/functions/{FunctionName}/versions`). */
  routes: { operation: string; method: string; requestUri: string }[];
}

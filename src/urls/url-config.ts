// A function URL's configuration as lambkin keeps it: the shared vocabulary of the control plane
// (CreateFunctionUrlConfig & co., src/service/handlers/function-urls.ts, stored by src/service/storage/url-store.ts)
// and the server that answers the URLs themselves (src/urls/). A URL names $LATEST (unqualified) or one alias.

export type UrlAuthType = 'NONE' | 'AWS_IAM';
export type UrlInvokeMode = 'BUFFERED' | 'RESPONSE_STREAM';

/** Cors as the API takes and shows it; absent members are absent. */
export interface UrlCors {
  AllowCredentials?: boolean;
  AllowHeaders?: string[];
  AllowMethods?: string[];
  AllowOrigins?: string[];
  ExposeHeaders?: string[];
  MaxAge?: number;
}

export interface FunctionUrlRecord {
  /** 32 lowercase letters and digits: the URL's host label (`<urlId>.lambda-url.<region>.on.aws` on AWS). */
  urlId: string;
  functionName: string;
  /** The alias the URL names; absent: $LATEST (the unqualified function). */
  qualifier?: string;
  authType: UrlAuthType;
  invokeMode: UrlInvokeMode;
  cors?: UrlCors;
  /** ISO-8601 with milliseconds and Z, as AWS answers CreationTime / LastModifiedTime. */
  creationTime: string;
  lastModifiedTime: string;
}

/** Where URL configs are kept (in the functions' database); they go with their function or alias. */
export interface FunctionUrlStore {
  /** The config a URL's id names, for the URL server. */
  byUrlId(urlId: string): Promise<FunctionUrlRecord | undefined>;
  /** The config of a function's qualifier (undefined: $LATEST). */
  get(functionName: string, qualifier: string | undefined): Promise<FunctionUrlRecord | undefined>;
  /** Adds a config; false when the function's qualifier has one already. */
  create(record: FunctionUrlRecord): Promise<boolean>;
  update(record: FunctionUrlRecord): Promise<boolean>;
  delete(functionName: string, qualifier: string | undefined): Promise<FunctionUrlRecord | undefined>;
  /** A function's configs, for ListFunctionUrlConfigs (ordered, after `afterUrlId`). */
  list(functionName: string, afterUrlId: string | undefined, limit: number): Promise<FunctionUrlRecord[]>;
  /** A function (or alias) was deleted: its configs go. */
  deleteAll(functionName: string, qualifier?: string): Promise<void>;
}

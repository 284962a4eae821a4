import { FunctionInvokeOptions, FunctionRegion, FunctionsClient, FunctionsError } from "@supabase/functions-js";
import { PostgrestClient, PostgrestQueryBuilder, PostgrestQueryBuilder as PostgrestQueryBuilder$1, PostgrestQueryBuilderOptions as PostgrestQueryBuilderOptions$1 } from "@supabase/postgrest-js";
import { RealtimeChannel, RealtimeChannelOptions, RealtimeClient, RealtimeRemoveChannelResponse } from "@supabase/realtime-js";
import { StorageApiError, StorageClient, StorageClientOptions } from "@supabase/storage-js";
import { AuthClient, GoTrueClientOptions, Session as AuthSession, User as AuthUser } from "@supabase/auth-js";
export * from "@supabase/realtime-js";
export * from "@supabase/auth-js";
declare class SupabaseAuthClient extends AuthClient {
  constructor(options: SupabaseAuthClientOptions);
}
declare class SupabaseClient<Database = any, SchemaName extends string = 'public'> {
  protected supabaseUrl: string;
  protected supabaseKey: string;
  auth: SupabaseAuthClient;
  realtime: RealtimeClient;
  storage: StorageClient;
  protected realtimeUrl: URL;
  protected authUrl: URL;
  protected rest: PostgrestClient<Database, ClientOptions, SchemaName>;
  protected fetch?: Fetch;
  protected accessToken?: () => Promise<string | null>;
  protected headers: Record<string, string>;
  constructor(supabaseUrl: string, supabaseKey: string, options?: SupabaseClientOptions<SchemaName>);
  get functions(): FunctionsClient;
  from<TableName extends string & keyof Schema['Tables'], Table extends Schema['Tables'][TableName]>(relation: TableName, options?: PostgrestQueryBuilderOptions$1): PostgrestQueryBuilder$1<ClientOptions, Schema, Table, TableName>;
  schema<DynamicSchema extends string & keyof Omit<Database, '__InternalSupabase'>>(schema: DynamicSchema): PostgrestClient<Database, ClientOptions, DynamicSchema, any>;
  getOpenApiSpec(): Promise<PostgrestSingleResponse$1<PostgrestOpenApiSpec$1>>;
  rpc<FnName extends string & keyof Schema['Functions']>(fn: FnName, args?: Args, options?: {
    head?: boolean;
    get?: boolean;
    count?: 'exact' | 'planned' | 'estimated';
  }): FilterBuilder;
  channel(name: string, opts?: RealtimeChannelOptions): RealtimeChannel;
  getChannels(): RealtimeChannel[];
  removeChannel(channel: RealtimeChannel): Promise<RealtimeRemoveChannelResponse>;
  removeAllChannels(): Promise<RealtimeRemoveChannelResponse[]>;
  private _getAccessToken;
  private _initSupabaseAuthClient;
}
declare const createClient: <Database = any>(supabaseUrl: string, supabaseKey: string, options?: SupabaseClientOptions<SchemaName>) => SupabaseClient<Database>;
export { type AuthSession, type AuthUser, SupabaseClient, createClient };

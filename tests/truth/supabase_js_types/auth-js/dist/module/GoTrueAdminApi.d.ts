import { Fetch } from './lib/fetch';
import { AdminUserAttributes, GenerateLinkParams, GenerateLinkResponse, PageParams, User, UserResponse, GoTrueAdminMFAApi } from './lib/types';
export default class GoTrueAdminApi {
    mfa: GoTrueAdminMFAApi;
    protected url: string;
    protected headers: {
        [key: string]: string;
    };
    protected fetch: Fetch;
    constructor({ url, headers, fetch, }: {
        url: string;
        headers?: {
            [key: string]: string;
        };
        fetch?: Fetch;
    });
    signOut(jwt: string, scope?: SignOutScope): Promise<{
        data: null;
        error: AuthError | null;
    }>;
    inviteUserByEmail(email: string, options?: {
        data?: object;
        redirectTo?: string;
    }): Promise<UserResponse>;
    generateLink(params: GenerateLinkParams): Promise<GenerateLinkResponse>;
    createUser(attributes: AdminUserAttributes): Promise<UserResponse>;
    listUsers(params?: PageParams): Promise<{
        data: {
            users: User[];
            aud: string;
        } & Pagination;
        error: null;
    } | {
        data: {
            users: [];
        };
        error: AuthError;
    }>;
    getUserById(uid: string): Promise<UserResponse>;
    updateUserById(uid: string, attributes: AdminUserAttributes): Promise<UserResponse>;
    deleteUser(id: string, shouldSoftDelete?: boolean): Promise<UserResponse>;
    private _listFactors;
    private _deleteFactor;
}

import GoTrueAdminApi from './GoTrueAdminApi';
import { AuthError } from './lib/errors';
import type { AuthChangeEvent, AuthOtpResponse, AuthResponse, AuthTokenResponse, AuthTokenResponsePassword, GoTrueClientOptions, GoTrueMFAApi, OAuthResponse, Session, SignInWithOAuthCredentials, SignInWithPasswordCredentials, SignInWithPasswordlessCredentials, SignUpWithPasswordCredentials, Subscription, User, UserAttributes, UserResponse, VerifyOtpParams } from './lib/types';
export default class GoTrueClient {
    private static nextInstanceID;
    private instanceID;
    admin: GoTrueAdminApi;
    mfa: GoTrueMFAApi;
    protected storageKey: string;
    protected flowType: AuthFlowType;
    protected autoRefreshToken: boolean;
    protected persistSession: boolean;
    protected storage: SupportedStorage;
    protected userStorage: SupportedStorage | null;
    protected url: string;
    protected headers: {
        [key: string]: string;
    };
    constructor(options: GoTrueClientOptions);
    initialize(): Promise<InitializeResult>;
    signInAnonymously(credentials?: SignInAnonymouslyCredentials): Promise<AuthResponse>;
    signUp(credentials: SignUpWithPasswordCredentials): Promise<AuthResponse>;
    signInWithPassword(credentials: SignInWithPasswordCredentials): Promise<AuthTokenResponsePassword>;
    signInWithOAuth(credentials: SignInWithOAuthCredentials): Promise<OAuthResponse>;
    exchangeCodeForSession(authCode: string): Promise<AuthTokenResponse>;
    signInWithIdToken(credentials: SignInWithIdTokenCredentials): Promise<AuthTokenResponse>;
    signInWithOtp(credentials: SignInWithPasswordlessCredentials): Promise<AuthOtpResponse>;
    verifyOtp(params: VerifyOtpParams): Promise<AuthResponse>;
    signInWithSSO(params: SignInWithSSO): Promise<SSOResponse>;
    reauthenticate(): Promise<AuthResponse>;
    resend(credentials: ResendParams): Promise<AuthOtpResponse>;
    getSession(): Promise<{
        data: {
            session: Session;
        };
        error: null;
    } | {
        data: {
            session: null;
        };
        error: AuthError;
    }>;
    getUser(jwt?: string): Promise<UserResponse>;
    updateUser(attributes: UserAttributes, options?: {
        emailRedirectTo?: string | undefined;
    }): Promise<UserResponse>;
    setSession(currentSession: {
        access_token: string;
        refresh_token: string;
    }): Promise<AuthResponse>;
    refreshSession(currentSession?: {
        refresh_token: string;
    }): Promise<AuthResponse>;
    signOut(options?: SignOut): Promise<{
        error: AuthError | null;
    }>;
    onAuthStateChange(callback: (event: AuthChangeEvent, session: Session | null) => void | Promise<void>): {
        data: {
            subscription: Subscription;
        };
    };
    resetPasswordForEmail(email: string, options?: {
        redirectTo?: string;
        captchaToken?: string;
    }): Promise<{
        data: {};
        error: null;
    } | {
        data: null;
        error: AuthError;
    }>;
    getUserIdentities(): Promise<{
        data: {
            identities: UserIdentity[];
        };
        error: null;
    } | {
        data: null;
        error: AuthError;
    }>;
    linkIdentity(credentials: SignInWithOAuthCredentials): Promise<OAuthResponse>;
    unlinkIdentity(identity: UserIdentity): Promise<{
        data: {};
        error: null;
    } | {
        data: null;
        error: AuthError;
    }>;
    startAutoRefresh(): Promise<void>;
    stopAutoRefresh(): Promise<void>;
    getClaims(jwt?: string, options?: {
        keys?: JWK[];
    }): Promise<{
        data: {
            claims: JwtPayload;
            header: JwtHeader;
            signature: Uint8Array;
        };
        error: null;
    }>;
    private _challenge;
    private _listFactors;
}
//# sourceMappingURL=GoTrueClient.d.ts.map

export type Provider = 'apple' | 'azure' | 'bitbucket' | 'discord' | 'github' | 'gitlab' | 'google';
export interface GoTrueMFAApi {
    enroll(params: MFAEnrollTOTPParams): Promise<AuthMFAEnrollTOTPResponse>;
    enroll(params: MFAEnrollPhoneParams): Promise<AuthMFAEnrollPhoneResponse>;
    challenge(params: MFAChallengeParams): Promise<AuthMFAChallengeResponse>;
    verify(params: MFAVerifyParams): Promise<AuthMFAVerifyResponse>;
    unenroll(params: MFAUnenrollParams): Promise<AuthMFAUnenrollResponse>;
    challengeAndVerify(params: MFAChallengeAndVerifyParams): Promise<AuthMFAVerifyResponse>;
    listFactors(): Promise<AuthMFAListFactorsResponse>;
    getAuthenticatorAssuranceLevel(jwt?: string): Promise<AuthMFAGetAuthenticatorAssuranceLevelResponse>;
    webauthn: WebAuthnApi;
}
export interface GoTrueAdminMFAApi {
    listFactors(params: AuthMFAAdminListFactorsParams): Promise<AuthMFAAdminListFactorsResponse>;
    deleteFactor(params: AuthMFAAdminDeleteFactorParams): Promise<AuthMFAAdminDeleteFactorResponse>;
}

// IC reject codes (interface spec "Reject codes") and the error types the engine uses.
export const RejectCode = {
    SYS_FATAL: 1,
    SYS_TRANSIENT: 2,
    DESTINATION_INVALID: 3,
    CANISTER_REJECT: 4,
    CANISTER_ERROR: 5
} as const;

/** `errorCode` is the IC's error code (`IC0512`, …) when the engine knows it; otherwise it is derived from code and text */
export type Reject = { code: number; message: string; errorCode?: string };
export type CallResult = { reply: Uint8Array } | { reject: Reject };

/** thrown by management/install paths that fail with a reject */
export class EngineError extends Error {
    constructor(
        readonly code: number,
        message: string,
        readonly errorCode?: string
    ) {
        super(message);
        this.name = 'EngineError';
    }

    get reject(): Reject {
        return { code: this.code, message: this.message, errorCode: this.errorCode };
    }
}

/** thrown inside host functions to trap the running message */
export class Trap extends Error {
    constructor(message: string) {
        super(message);
        this.name = 'Trap';
    }
}

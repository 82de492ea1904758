/**
 * Errors of the Confluent Schema Registry REST API: HTTP status plus Confluent's own error_code,
 * which clients switch on (e.g. 40401 "subject not found" is how a lookup miss is recognised).
 */
export const REGISTRY_ERRORS = {
  SUBJECT_NOT_FOUND: { status: 404, errorCode: 40401 },
  VERSION_NOT_FOUND: { status: 404, errorCode: 40402 },
  SCHEMA_NOT_FOUND: { status: 404, errorCode: 40403 },
  SUBJECT_SOFT_DELETED: { status: 404, errorCode: 40404 },
  SUBJECT_NOT_SOFT_DELETED: { status: 404, errorCode: 40405 },
  VERSION_SOFT_DELETED: { status: 404, errorCode: 40406 },
  VERSION_NOT_SOFT_DELETED: { status: 404, errorCode: 40407 },
  SUBJECT_CONFIG_NOT_FOUND: { status: 404, errorCode: 40408 },
  SUBJECT_MODE_NOT_FOUND: { status: 404, errorCode: 40409 },
  /** Routing and request errors, in Confluent's (Jersey's) shape: error_code = HTTP status. */
  BAD_REQUEST: { status: 400, errorCode: 400 },
  NOT_FOUND: { status: 404, errorCode: 404 },
  /** A write (POST, PUT, DELETE) without the registry's bearer token (KAPPA_REGISTRY_TOKEN). */
  UNAUTHORIZED: { status: 401, errorCode: 40101 },
  METHOD_NOT_ALLOWED: { status: 405, errorCode: 405 },
  /** A registry on loopback asked under another name (DNS rebinding). */
  MISDIRECTED_REQUEST: { status: 421, errorCode: 421 },
  RATE_LIMITED: { status: 429, errorCode: 429 },
  INCOMPATIBLE_SCHEMA: { status: 409, errorCode: 409 },
  INVALID_SCHEMA: { status: 422, errorCode: 42201 },
  INVALID_VERSION: { status: 422, errorCode: 42202 },
  INVALID_COMPATIBILITY_LEVEL: { status: 422, errorCode: 42203 },
  INVALID_MODE: { status: 422, errorCode: 42204 },
  OPERATION_NOT_PERMITTED: { status: 422, errorCode: 42205 },
  INVALID_SUBJECT: { status: 422, errorCode: 42208 },
  SCHEMA_TOO_LARGE: { status: 422, errorCode: 42209 },
  STORE_ERROR: { status: 500, errorCode: 50001 },
  OPERATION_TIMEOUT: { status: 500, errorCode: 50002 },
  /** Confluent: forwarding to the leader failed. Here: the schema log (the Kafka topic) cannot be reached. */
  STORE_UNAVAILABLE: { status: 500, errorCode: 50003 },
} as const;

export type RegistryErrorKind = keyof typeof REGISTRY_ERRORS;

export class RegistryError extends Error {
  readonly kind: RegistryErrorKind;

  constructor(kind: RegistryErrorKind, message: string, options?: { readonly cause?: unknown }) {
    super(message, options);
    this.name = 'RegistryError';
    this.kind = kind;
  }

  get status(): number {
    return REGISTRY_ERRORS[this.kind].status;
  }

  get errorCode(): number {
    return REGISTRY_ERRORS[this.kind].errorCode;
  }

  /** The response body Confluent's clients parse. */
  toBody(): { readonly error_code: number; readonly message: string } {
    return { error_code: this.errorCode, message: this.message };
  }
}

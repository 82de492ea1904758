import { KappaError, type ErrorCode } from '../shared/errors.js';

/** An error about one request: its code gives the HTTP status (ERROR_CODES), `field` names the culprit. */
export class RequestError extends KappaError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(code, message);
    this.name = 'RequestError';
  }
}

/**
 * A query or path parameter the caller got wrong. Thrown by services and helpers; the one
 * exception filter answers it 400 `{ statusCode, error, message, field }`, naming the parameter.
 * `field` is undefined only when no single parameter is at fault (then it is left out).
 */
export class BadQueryParameterError extends Error {
  constructor(
    readonly field: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'BadQueryParameterError';
  }

  /** The answer body, as the API documents it (ApiErrorDto). */
  toBody(): { statusCode: 400; error: 'Bad Request'; message: string; field?: string } {
    return { statusCode: 400, error: 'Bad Request', message: this.message, field: this.field };
  }
}

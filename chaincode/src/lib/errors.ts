import { codedMessage, type ErrorCode, ErrorCodes } from '@c2m/shared';

/**
 * The one way chaincode fails. The message travels to the client as the
 * peer's response message, where `parseCodedMessage()` turns it back into a code.
 */
export function fail(code: ErrorCode, message: string): never {
  throw new Error(codedMessage(code, message));
}

export function invalid(message: string): never {
  return fail(ErrorCodes.VALIDATION_FAILED, message);
}

export { ErrorCodes };

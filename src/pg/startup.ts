/**
 * The authentication exchange of the startup phase
 * (https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-START-UP), free of I/O:
 * each AuthenticationXXX request in, the message to send back out (or nothing).
 */
import { AuthError, chooseSaslMechanism, md5Password, ScramClient } from './auth.ts';
import { encodePassword, encodeSASLInitialResponse, encodeSASLResponse } from './frontend.ts';
import type { AuthenticationRequest } from './messages.ts';

const utf8 = new TextEncoder();

/** Answers the server's authentication requests for one user and optional password. */
export class Authenticator {
  private scram: ScramClient | undefined;
  private scramVerified = false;
  /** The method the server asked for last (for messages). */
  method = 'trust';

  constructor(private readonly user: string, private readonly password: string | undefined) {}

  private requirePassword(method: string): string {
    if (this.password === undefined) {
      throw new AuthError(`the server asks for a password (${method}) but none is set: give password in the connection string, PGPASSWORD or ~/.pgpass`);
    }
    return this.password;
  }

  /**
   * The reply to an authentication request, or undefined when none is due (ok, SASLFinal). Only the
   * SCRAM client-final step is asynchronous (PBKDF2); every check throws synchronously, so a failed
   * check stops the connection before any later message (AuthenticationOk, ReadyForQuery) is handled.
   */
  respond(request: AuthenticationRequest): Uint8Array | Promise<Uint8Array> | undefined {
    switch (request.kind) {
      case 'ok':
        // A server that skips SASLFinal never proved it knows the password (libpq refuses this too).
        if (this.scram !== undefined && !this.scramVerified) throw new AuthError('the server ended SCRAM authentication without proving its identity');
        return undefined;
      case 'cleartext':
        this.method = 'password';
        return encodePassword(this.requirePassword('cleartext'));
      case 'md5':
        this.method = 'md5';
        return encodePassword(md5Password(this.user, this.requirePassword('md5'), request.salt));
      case 'sasl': {
        this.method = 'scram-sha-256';
        const mechanism = chooseSaslMechanism(request.mechanisms);
        this.scram = new ScramClient(this.requirePassword('SCRAM-SHA-256'));
        return encodeSASLInitialResponse(mechanism, utf8.encode(this.scram.clientFirst()));
      }
      case 'sasl-continue':
        if (this.scram === undefined) throw new AuthError('the server sent SASLContinue without a SASL exchange');
        return this.scram.clientFinal(request.data).then((final) => encodeSASLResponse(utf8.encode(final)));
      case 'sasl-final':
        if (this.scram === undefined) throw new AuthError('the server sent SASLFinal without a SASL exchange');
        this.scram.verifyServerFinal(request.data);
        this.scramVerified = true;
        return undefined;
      case 'unsupported':
        throw new AuthError(`the server asks for ${request.name} authentication, which psql-streamer does not support`);
    }
  }
}

/**
 * Password authentication steps, free of I/O: SCRAM-SHA-256 (RFC 5802 / RFC 7677, as PostgreSQL
 * speaks it: https://www.postgresql.org/docs/current/sasl-authentication.html), md5 and cleartext.
 * The connection sends what these functions return and feeds back what the server answers.
 */
import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const pbkdf2Async = promisify(pbkdf2);

/** The only SASL mechanism we speak. Channel binding (the -PLUS variant) is not supported. */
export const SCRAM_SHA_256 = 'SCRAM-SHA-256';

/** A failed authentication step: the server's messages are malformed or its proof is wrong. */
export class AuthError extends Error {
  readonly retryable = false;

  constructor(message: string) {
    super(message);
    this.name = 'AuthError';
  }
}

/** Picks SCRAM-SHA-256 from the server's list, or explains why none can be used. */
export function chooseSaslMechanism(mechanisms: readonly string[]): string {
  if (mechanisms.includes(SCRAM_SHA_256)) return SCRAM_SHA_256;
  if (mechanisms.includes('SCRAM-SHA-256-PLUS')) {
    throw new AuthError('the server requires SCRAM-SHA-256-PLUS (channel binding), which psql-streamer does not support');
  }
  throw new AuthError(`the server offers no supported SASL mechanism (offered: ${mechanisms.join(', ') || 'none'})`);
}

/** `md5` + md5hex(md5hex(password + user) + salt): the PasswordMessage for AuthenticationMD5Password. */
export function md5Password(user: string, password: string, salt: Uint8Array): string {
  const inner = createHash('md5').update(password + user, 'utf8').digest('hex');
  return 'md5' + createHash('md5').update(inner, 'utf8').update(salt).digest('hex');
}

/**
 * Characters SASLprep (RFC 4013) maps to nothing (RFC 3454 table B.1) and non-ASCII spaces it maps
 * to U+0020 (table C.1.2). PostgreSQL prepares the password this way; when its SASLprep fails (on
 * prohibited characters) it uses the raw bytes, which we also do for such passwords by not checking
 * prohibitions: a difference only for passwords containing control or private-use characters.
 */
const MAPPED_TO_NOTHING = /[\u00AD\u034F\u1806\u180B-\u180D\u200B-\u200D\u2060\uFE00-\uFE0F\uFEFF]/g;
const NON_ASCII_SPACE = /[\u00A0\u1680\u2000-\u200A\u202F\u205F\u3000]/g;

/** SASLprep of a password (mapping and NFKC); ASCII passwords are returned unchanged. */
export function saslPrep(password: string): string {
  if (/^[\x00-\x7f]*$/.test(password)) return password;
  return password.replace(MAPPED_TO_NOTHING, '').replace(NON_ASCII_SPACE, ' ').normalize('NFKC');
}

/** The attributes of a SCRAM message `a=1,b=2` (values may contain '='). */
function parseAttributes(message: string, what: string): Map<string, string> {
  const attributes = new Map<string, string>();
  for (const part of message.split(',')) {
    if (part.length < 2 || part[1] !== '=') throw new AuthError(`malformed SCRAM ${what}: ${JSON.stringify(message.slice(0, 100))}`);
    attributes.set(part[0]!, part.slice(2));
  }
  return attributes;
}

const hmac = (key: Uint8Array, text: string): Buffer => createHmac('sha256', key).update(text, 'utf8').digest();
const sha256 = (data: Uint8Array): Buffer => createHash('sha256').update(data).digest();

/**
 * One SCRAM-SHA-256 exchange: `clientFirst()`, then `clientFinal(serverFirst)` (async: PBKDF2 runs
 * off the event loop, as a server may ask for many iterations), then `verifyServerFinal(serverFinal)`,
 * which throws unless the server proved it knows the password too.
 */
export class ScramClient {
  private readonly nonce: string;
  private readonly clientFirstBare: string;
  private expectedServerSignature: Buffer | undefined;

  /**
   * @param user sent in the client-first message; PostgreSQL ignores it (it uses the startup user),
   *   so libpq sends an empty one. Only the RFC test vector needs another.
   * @param nonce the client nonce; random (18 bytes, base64) unless a test fixes it.
   */
  constructor(private readonly password: string, options: { user?: string; nonce?: string } = {}) {
    this.nonce = options.nonce ?? randomBytes(18).toString('base64');
    const user = (options.user ?? '').replace(/=/g, '=3D').replace(/,/g, '=2C');
    this.clientFirstBare = `n=${user},r=${this.nonce}`;
  }

  /** client-first-message: GS2 header `n,,` (no channel binding) and the bare part. */
  clientFirst(): string {
    return `n,,${this.clientFirstBare}`;
  }

  /** client-final-message for the server-first-message, with the ClientProof. */
  async clientFinal(serverFirst: string): Promise<string> {
    const attributes = parseAttributes(serverFirst, 'server-first-message');
    const nonce = attributes.get('r');
    const saltText = attributes.get('s');
    const iterations = Number(attributes.get('i'));
    if (nonce === undefined || saltText === undefined || !Number.isSafeInteger(iterations) || iterations < 1) {
      throw new AuthError('SCRAM server-first-message lacks a nonce, salt or iteration count');
    }
    if (!nonce.startsWith(this.nonce) || nonce.length === this.nonce.length) {
      throw new AuthError('SCRAM server nonce does not extend the client nonce');
    }
    const salt = Buffer.from(saltText, 'base64');
    const saltedPassword = await pbkdf2Async(saslPrep(this.password), salt, iterations, 32, 'sha256');
    const clientKey = hmac(saltedPassword, 'Client Key');
    const storedKey = sha256(clientKey);
    // c=biws is base64('n,,'): the GS2 header echoed back, without channel-binding data.
    const withoutProof = `c=biws,r=${nonce}`;
    const authMessage = `${this.clientFirstBare},${serverFirst},${withoutProof}`;
    const clientSignature = hmac(storedKey, authMessage);
    const proof = Buffer.alloc(clientKey.length);
    for (let i = 0; i < proof.length; i++) proof[i] = clientKey[i]! ^ clientSignature[i]!;
    this.expectedServerSignature = hmac(hmac(saltedPassword, 'Server Key'), authMessage);
    return `${withoutProof},p=${proof.toString('base64')}`;
  }

  /** Checks the server-final-message `v=<ServerSignature>` (or reports its `e=<error>`). */
  verifyServerFinal(serverFinal: string): void {
    if (this.expectedServerSignature === undefined) throw new AuthError('SCRAM server-final-message before client-final-message');
    const attributes = parseAttributes(serverFinal, 'server-final-message');
    const error = attributes.get('e');
    if (error !== undefined) throw new AuthError(`SCRAM authentication failed: ${error}`);
    const signature = Buffer.from(attributes.get('v') ?? '', 'base64');
    if (signature.length !== this.expectedServerSignature.length || !timingSafeEqual(signature, this.expectedServerSignature)) {
      throw new AuthError('SCRAM server signature is wrong: the server does not know the password (possible impostor)');
    }
  }
}

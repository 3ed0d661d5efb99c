/**
 * The backend messages that record what the server reports rather than answer a request
 * (https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-ASYNC): ParameterStatus,
 * NoticeResponse and NotificationResponse, which may come at any time, and BackendKeyData and
 * NegotiateProtocolVersion of the startup. Handlers of PgProtocol's table (protocol.ts, called with
 * the protocol as `this`); none disturbs what is in progress.
 */
import { decodeBackendKeyData, decodeErrorFields, decodeNegotiateProtocolVersion, decodeParameterStatus } from './messages.ts';
import type { PgProtocol } from './protocol.ts';

/** `150018` from `15.18 (Debian 15.18-1.pgdg120+1)`, `100023` from `10.23`, `90624` from `9.6.24`. */
export function parseServerVersion(text: string): number {
  const match = /^(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(text);
  if (!match) return 0;
  const major = Number(match[1]);
  const minor = Number(match[2] ?? 0);
  return major >= 10 ? major * 10000 + minor : major * 10000 + minor * 100 + Number(match[3] ?? 0);
}

export function ParameterStatus(this: PgProtocol, payload: Uint8Array): void {
  const { name, value } = decodeParameterStatus(payload);
  this.parameters.set(name, value);
  if (name === 'server_version') this.serverVersionNum = parseServerVersion(value);
}

export function BackendKeyData(this: PgProtocol, payload: Uint8Array): void {
  this.processId = decodeBackendKeyData(payload).processId;
}

export function NoticeResponse(this: PgProtocol, payload: Uint8Array): void {
  const notice = decodeErrorFields(payload);
  try {
    this.noticeHandler(notice);
  } catch (err) {
    this.io.warn(`notice handler threw: ${(err as Error).message}`);
  }
}

export function NotificationResponse(this: PgProtocol): void {
  // LISTEN/NOTIFY is not used here; a notification is harmless and ignored.
}

export function NegotiateProtocolVersion(this: PgProtocol, payload: Uint8Array): void {
  const { minorVersion, unrecognized } = decodeNegotiateProtocolVersion(payload);
  this.io.warn(`server supports protocol 3.${minorVersion} only; unrecognized options: ${unrecognized.join(', ') || 'none'}`);
}

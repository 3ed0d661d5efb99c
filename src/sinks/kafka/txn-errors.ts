/**
 * Why a transactional producer of the exactly-once Kafka sink can no longer write (fenced by
 * another instance with its transactional id, or refused by the brokers), told apart from the
 * errors a new attempt may fix; and the failure of a transaction's position record.
 */
import { StreamerError } from '../../core/errors.ts';
import { errorNames } from './outcome.ts';

/**
 * Errors that mean another producer with the same transactional id took over. INVALID_PRODUCER_EPOCH
 * from a transaction's request may also mean the coordinator aborted it for taking longer than
 * `transactionTimeout`: that one is only proven a fencing when bumping the epoch is refused too.
 */
const FENCED = new Set(['PRODUCER_FENCED']);
const FENCED_ON_INIT = new Set(['PRODUCER_FENCED', 'INVALID_PRODUCER_EPOCH']);
/** Errors that no retry can fix: the brokers refuse this producer's settings or rights. */
const REFUSED = new Set(['TRANSACTIONAL_ID_AUTHORIZATION_FAILED', 'GROUP_AUTHORIZATION_FAILED', 'INVALID_TRANSACTION_TIMEOUT', 'CLUSTER_AUTHORIZATION_FAILED']);

/** A transactional producer that can no longer write: fenced by another instance, or refused. */
export class TransactionRefused extends Error {
  constructor(message: string, readonly fenced: boolean, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TransactionRefused';
  }
}

/**
 * The transaction's position record was not written: the transaction fails (and is sent again
 * whole). Also a sign that the position topic may be gone, so the sink checks it again first.
 */
export class PositionRecordFailed extends StreamerError {
  constructor(topic: string, failure: { message: string }, component: string) {
    super('SINK_WRITE', `cannot write the position record to topic "${topic}": ${failure.message}`, { component, cause: failure });
    this.name = 'PositionRecordFailed';
  }
}

/** Whether a failed transactional request says the producer can never write again. */
export function refusal(err: unknown, transactionalId: string, onInit = false): TransactionRefused | undefined {
  const names = errorNames(err);
  const fenced = names.find((n) => (onInit ? FENCED_ON_INIT : FENCED).has(n));
  if (fenced !== undefined) {
    return new TransactionRefused(
      `fenced (${fenced}): another producer with transactional id "${transactionalId}" started (another psql-streamer instance with the same config?); ` +
        'this one stops so that only one writes',
      true, { cause: err },
    );
  }
  const refused = names.find((n) => REFUSED.has(n));
  if (refused !== undefined) return new TransactionRefused(`the brokers refuse transactional id "${transactionalId}" (${refused})`, false, { cause: err });
  return undefined;
}

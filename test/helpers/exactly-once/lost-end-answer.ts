/**
 * Fault injection for the exactly-once sink against a real broker: EndTxn reaches the brokers and
 * is carried out, then the call fails as a connection cut before the answer would (the answer lost).
 */
import { TxnRequests } from '../../../src/sinks/kafka/txn-requests.ts';

export interface LostEndAnswers {
  /** The answers of the next `n` committing EndTxn calls are lost. */
  lose(n: number): void;
  /** How many of those are still to come. */
  readonly pending: number;
  /** Puts the real call back. */
  restore(): void;
}

export function loseEndTxnAnswers(): LostEndAnswers {
  const real = TxnRequests.prototype.endTxn;
  let toLose = 0;
  TxnRequests.prototype.endTxn = async function (this: TxnRequests, ...args: Parameters<TxnRequests['endTxn']>) {
    const answer = await real.apply(this, args);
    if (args[1] && toLose > 0) {
      toLose--;
      throw new Error('connection closed before the EndTxn answer (test)');
    }
    return answer;
  };
  return {
    lose: (n) => { toLose = n; },
    get pending() { return toLose; },
    restore: () => { TxnRequests.prototype.endTxn = real; },
  };
}

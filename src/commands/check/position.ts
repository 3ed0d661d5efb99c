/**
 * The `position` check of `check --live` (pure): would the source stream, or refuse, if it started
 * now? The saved position and cluster identity from the state file, walPositionOverride, the slot and
 * IDENTIFY_SYSTEM go through the same decision the source makes at every connect (start-check.ts;
 * docs/operations.md "Positions the server must agree with"), without --accept-gap.
 */
import { acceptCommand, checkStart, resetCommand, type StartCheckInput } from '../../sources/postgres/start-check.ts';
import { formatLsn } from '../../replication/lsn.ts';
import { fail, ok, warn, type CheckResult } from './result.ts';

export type PositionInput = Omit<StartCheckInput, 'acceptGap'>;

export function checkPosition(input: PositionInput): CheckResult {
  const decision = checkStart({ ...input, acceptGap: false });
  if (decision.kind === 'refuse') {
    const reset = resetCommand(input.source, input.configFile);
    const accept = `${acceptCommand(input.configFile)} (once; then re-copy the affected tables)`;
    const remedy: Record<string, string> = {
      position_ahead_of_server: input.fromOverride ? 'correct or remove walPositionOverride' : reset,
      other_cluster: reset,
      slot_missing: accept,
      slot_ahead: accept,
      slot_invalidated: `SELECT pg_drop_replication_slot('${input.slot}'); then ${accept}`,
    };
    return fail('position', `the source would refuse to start: ${decision.message}`, remedy[decision.reason] ?? 'see the reason');
  }
  const notes = decision.notices.map((n) => n.message);
  const what = input.resumeFrom > 0n
    ? `resumes from ${formatLsn(input.resumeFrom)}${input.fromOverride ? ' (walPositionOverride)' : ''}`
    : decision.createSlot ? 'no saved position: the first start creates the slot' : 'no saved position: streams from the slot\'s confirmed position';
  const reason = [what, ...notes].join('; ');
  if (decision.notices.some((n) => n.level === 'warn')) return warn('position', reason, input.fromOverride ? 'remove walPositionOverride: a slot cannot be rewound' : 'see the reason');
  return ok('position', reason);
}

/**
 * Number options of the soak drivers (scripts/soak-*.ts): a non-negative number, or the usage and
 * exit code 2.
 */

/** `values[name]` as a non-negative number; otherwise prints what is wrong and `help`, and exits 2. */
export function nonNegative(values: Record<string, unknown>, name: string, help: string): number {
  const value = Number(values[name]);
  if (!Number.isFinite(value) || value < 0) {
    process.stderr.write(`--${name}: expected a non-negative number, got ${String(values[name])}\n${help}`);
    process.exit(2);
  }
  return value;
}

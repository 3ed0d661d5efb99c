/**
 * The process exit codes, in one place for `run.ts`, `main.ts` and the commands (the README lists
 * what each means to an operator).
 */
export const EXIT_OK = 0;
export const EXIT_RUNTIME = 1;
export const EXIT_USAGE = 2;
/** A source refused to go on until an operator acts (the log says why and what to run); do not restart blindly. */
export const EXIT_REFUSED = 3;

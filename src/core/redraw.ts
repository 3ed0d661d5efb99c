/**
 * Progress in a terminal, shared by the long commands (`snapshot --wait`, `check --live`): a block
 * of lines redrawn in place (cursor up, clear to the end of the screen, draw again). Only for a
 * terminal; the commands write plain periodic lines elsewhere, so logs stay parseable.
 */

/** Where a command writes its progress: a terminal gets redrawn lines. */
export interface ProgressOut {
  write(text: string): void;
  isTTY: boolean;
  columns(): number;
}

/** The width to draw at: one column short of the terminal's (a full last column makes some terminals wrap). */
export function drawWidth(out: ProgressOut, least = 20): number {
  return Math.max(least, out.columns() - 1);
}

export class Redraw {
  /** Lines of the block on screen (0: nothing drawn). */
  private drawn = 0;

  constructor(private readonly out: ProgressOut) {}

  /** Replaces the block on screen with `text` (lines separated by \n, no final newline). */
  draw(text: string): void {
    this.out.write(`${this.back()}${text}`);
    this.drawn = text.split('\n').length;
  }

  /** Leaves the block on screen and moves below it. */
  end(): void {
    if (this.drawn > 0) this.out.write('\n');
    this.drawn = 0;
  }

  /** Erases the block, the cursor where it began (for output that replaces the progress). */
  clear(): void {
    if (this.drawn > 0) this.out.write(this.back());
    this.drawn = 0;
  }

  /** Back to the first line drawn and clear to the end of the screen. */
  private back(): string {
    if (this.drawn === 0) return '';
    return `${this.drawn > 1 ? `\x1b[${this.drawn - 1}A` : ''}\r\x1b[J`;
  }
}

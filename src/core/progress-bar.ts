/**
 * Text pieces of the progress bars the long commands draw in a terminal (snapshot progress,
 * `check --live`). Pure.
 */

/** `[#####.....]` of `cells` cells, `fraction` of them filled. */
export function bar(fraction: number, cells: number): string {
  const filled = Math.max(0, Math.min(cells, Math.floor(fraction * cells)));
  return `[${'#'.repeat(filled)}${'.'.repeat(cells - filled)}]`;
}

/** Fits `text` in `width` columns (cut with "…" when longer). */
export function fit(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, Math.max(0, width - 1))}…`;
}
